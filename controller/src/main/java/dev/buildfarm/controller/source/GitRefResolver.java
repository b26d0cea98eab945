package dev.buildfarm.controller.source;

import dev.buildfarm.common.SourceHosts;
import dev.buildfarm.controller.api.ApiError;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;

/**
 * Resolves a branch or tag to one commit with `git ls-remote`, so that every platform of a build
 * compiles the same tree even if the branch moves while the build runs.
 */
@ApplicationScoped
public class GitRefResolver {

    private static final int TIMEOUT_SECONDS = 20;

    /** Checks the addresses of the source's host right before each listing (a name may have been rebound since the spec was validated). */
    SourceHosts hosts = new SourceHosts(SourceHosts.SYSTEM);

    public String resolve(String url, String ref) {
        try {
            hosts.checkUrl(url);
        } catch (SourceHosts.Refused e) {
            throw ApiError.failedPrecondition("SOURCE_REFUSED", "spec.source.url", e.getMessage());
        }
        Collection<Ref> refs;
        try {
            refs = LsRemote.of(url).setHeads(true).setTags(true).setTimeout(TIMEOUT_SECONDS).call();
        } catch (GitAPIException | RuntimeException e) {
            throw ApiError.failedPrecondition("SOURCE_UNREACHABLE", "spec.source.url",
                    "cannot read git repository '" + url + "': " + rootMessage(e));
        }
        return find(refs, ref)
                .map(r -> r.getPeeledObjectId() != null ? r.getPeeledObjectId() : r.getObjectId())
                .map(ObjectId::name)
                .orElseThrow(() -> ApiError.failedPrecondition("REF_NOT_FOUND", "spec.source.ref",
                        "'" + ref + "' is neither a branch nor a tag of " + url));
    }

    static Optional<Ref> find(Collection<Ref> refs, String ref) {
        for (String candidate : List.of(ref, "refs/heads/" + ref, "refs/tags/" + ref)) {
            for (Ref r : refs) {
                if (r.getName().equals(candidate)) {
                    return Optional.of(r);
                }
            }
        }
        return Optional.empty();
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }
}
