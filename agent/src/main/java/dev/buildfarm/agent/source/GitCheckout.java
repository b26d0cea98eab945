package dev.buildfarm.agent.source;

import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.SourceHosts;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.api.FetchCommand;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.StoredConfig;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;

/**
 * Fetches a repository's branches and tags and checks out exactly the commit the controller
 * resolved. Init + fetch rather than clone: a clone wants the remote's HEAD, which need not exist.
 * Credentials, when the claim brought some, are handed to JGit only: never written into the
 * checkout's config or remote URL, where the Dockerfile's build context could read them. HTTP
 * redirects are not followed (see {@link #checkout}).
 */
public final class GitCheckout {

    private GitCheckout() {
    }

    public static void checkout(String url, String commit, Path directory, Optional<SourceCredentials> credentials)
            throws GitAPIException, SourceHosts.Refused {
        checkout(url, commit, directory, credentials, new SourceHosts(SourceHosts.SYSTEM));
    }

    /**
     * The source's host is checked again right before the fetch: the name may resolve to a
     * link-local or metadata address now although it did not when the build was submitted.
     */
    public static void checkout(String url, String commit, Path directory, Optional<SourceCredentials> credentials,
                                SourceHosts hosts) throws GitAPIException, SourceHosts.Refused {
        hosts.checkUrl(url);
        try (Git git = Git.init().setDirectory(directory.toFile()).call()) {
            // The host was checked above; a redirect would lead the fetch to one that was not.
            StoredConfig config = git.getRepository().getConfig();
            config.setString("http", null, "followRedirects", "false");
            config.save();
            git.remoteAdd().setName("origin").setUri(new URIish(url)).call();
            FetchCommand fetch = git.fetch()
                    .setRemote("origin")
                    .setRefSpecs(List.of(new RefSpec("+refs/heads/*:refs/remotes/origin/*"), new RefSpec("+refs/tags/*:refs/tags/*")))
                    .setTimeout(120);
            credentials.ifPresent(c -> fetch.setCredentialsProvider(new UsernamePasswordCredentialsProvider(c.getUsername(), c.getPassword())));
            fetch.call();
            git.checkout().setName(commit).call();
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot write the checkout's git config", e);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("not a git URL: " + url, e);
        }
    }
}
