package dev.buildfarm.controller.source;

import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.LsRemoteCommand;
import org.eclipse.jgit.internal.storage.dfs.DfsRepositoryDescription;
import org.eclipse.jgit.internal.storage.dfs.InMemoryRepository;

/**
 * {@code git ls-remote} that never follows an HTTP redirect. The source host's addresses are checked
 * before git connects; a redirect would take the request to a host that was never checked (a cloud
 * metadata address, say), so it is refused instead. JGit reads {@code http.followRedirects} from the
 * local repository's config, hence the empty in-memory repository that carries it.
 */
public final class LsRemote {

    private LsRemote() {
    }

    public static LsRemoteCommand of(String url) {
        InMemoryRepository carrier = new InMemoryRepository(new DfsRepositoryDescription("ls-remote"));
        carrier.getConfig().setString("http", null, "followRedirects", "false");
        return new Git(carrier).lsRemote().setRemote(url);
    }
}
