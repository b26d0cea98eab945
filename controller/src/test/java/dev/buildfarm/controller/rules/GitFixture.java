package dev.buildfarm.controller.rules;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Ref;

/**
 * A repository on the stack's git daemon (git://127.0.0.1:9418/<name>, served from .stack/git),
 * with real commits, branches and tags made by JGit.
 */
public final class GitFixture implements AutoCloseable {

    public static final Path GIT_BASE = Path.of(System.getenv().getOrDefault("GIT_BASE",
            Path.of("..", ".stack", "git").toAbsolutePath().normalize().toString()));
    public static final String GIT_URL_BASE = System.getenv().getOrDefault("GIT_URL_BASE", "git://127.0.0.1:9418");
    private static final PersonIdent WHO = new PersonIdent("rules-test", "rules-test@localhost");

    public final String url;
    private final Path dir;
    private final Git git;
    private int files;

    private GitFixture(String name, Git git) {
        this.url = GIT_URL_BASE + "/" + name;
        this.dir = GIT_BASE.resolve(name);
        this.git = git;
    }

    /** A new repository with one commit on main. */
    public static GitFixture create() throws Exception {
        String name = "rules-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = GIT_BASE.resolve(name);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("Dockerfile"), "FROM scratch\n");
        Git git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call();
        git.add().addFilepattern(".").call();
        git.commit().setMessage("first").setAuthor(WHO).setCommitter(WHO).call();
        return new GitFixture(name, git);
    }

    /** A new commit on the branch (created from the current HEAD if new); its id. */
    public String commit(String branch) throws Exception {
        boolean exists = git.getRepository().findRef("refs/heads/" + branch) != null;
        git.checkout().setName(branch).setCreateBranch(!exists).call();
        Files.writeString(dir.resolve("file-" + (++files)), "content " + files + "\n");
        git.add().addFilepattern(".").call();
        return git.commit().setMessage("change " + files).setAuthor(WHO).setCommitter(WHO).call().name();
    }

    /** An annotated tag on HEAD: answers {tag object id, commit id}. */
    public String[] annotatedTag(String name) throws Exception {
        Ref tag = git.tag().setName(name).setAnnotated(true).setMessage(name).setTagger(WHO).call();
        Ref peeled = git.getRepository().getRefDatabase().peel(tag);
        return new String[] {tag.getObjectId().name(), peeled.getPeeledObjectId().name()};
    }

    public String head(String branch) throws Exception {
        return git.getRepository().findRef("refs/heads/" + branch).getObjectId().name();
    }

    @Override
    public void close() throws IOException {
        git.close();
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
