package dev.buildfarm.agent.source;

import java.nio.file.Path;
import java.util.List;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.URIish;

/**
 * Fetches a repository's branches and tags and checks out exactly the commit the controller
 * resolved. Init + fetch rather than clone: a clone wants the remote's HEAD, which need not exist.
 */
public final class GitCheckout {

    private GitCheckout() {
    }

    public static void checkout(String url, String commit, Path directory) throws GitAPIException {
        try (Git git = Git.init().setDirectory(directory.toFile()).call()) {
            git.remoteAdd().setName("origin").setUri(new URIish(url)).call();
            git.fetch()
                    .setRemote("origin")
                    .setRefSpecs(List.of(new RefSpec("+refs/heads/*:refs/remotes/origin/*"), new RefSpec("+refs/tags/*:refs/tags/*")))
                    .setTimeout(120)
                    .call();
            git.checkout().setName(commit).call();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException("not a git URL: " + url, e);
        }
    }
}
