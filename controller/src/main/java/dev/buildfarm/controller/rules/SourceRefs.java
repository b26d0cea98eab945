package dev.buildfarm.controller.rules;

import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.SourceHosts;
import dev.buildfarm.controller.api.ApiError;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import dev.buildfarm.controller.source.LsRemote;
import org.eclipse.jgit.api.LsRemoteCommand;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;

/** `git ls-remote` of a bound source, with its credentials: branches and tags, tags peeled to their commit. */
@ApplicationScoped
public class SourceRefs {

    private static final int TIMEOUT_SECONDS = 20;

    /** Checks the addresses of the source's host right before each listing (a name may have been rebound since the spec was validated). */
    SourceHosts hosts = new SourceHosts(SourceHosts.SYSTEM);

    /** Full ref name ("refs/heads/main", "refs/tags/v1") → commit id. */
    public Map<String, String> list(String url, Optional<SourceCredentials> credentials) {
        try {
            hosts.checkUrl(url);
        } catch (SourceHosts.Refused e) {
            throw ApiError.failedPrecondition("SOURCE_REFUSED", "source.url", e.getMessage());
        }
        Collection<Ref> refs;
        try {
            LsRemoteCommand command = LsRemote.of(url).setHeads(true).setTags(true)
                    .setTimeout(TIMEOUT_SECONDS);
            credentials.ifPresent(c -> command.setCredentialsProvider(
                    new UsernamePasswordCredentialsProvider(c.getUsername(), c.getPassword())));
            refs = command.call();
        } catch (GitAPIException | RuntimeException e) {
            throw ApiError.failedPrecondition("SOURCE_UNREACHABLE", "source.url",
                    "cannot read git repository '" + url + "': " + rootMessage(e));
        }
        Map<String, String> commits = new TreeMap<>();
        for (Ref ref : refs) {
            String name = ref.getName();
            if ((name.startsWith("refs/heads/") || name.startsWith("refs/tags/")) && !name.endsWith("^{}")) {
                commits.put(name, (ref.getPeeledObjectId() != null ? ref.getPeeledObjectId() : ref.getObjectId()).name());
            }
        }
        return commits;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
