package dev.buildfarm.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.UUID;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.PersonIdent;

/** Publishes a directory as a new repository on the stack's git daemon, branch main. */
final class GitFixtures {

    record Repo(String url, String commit) {
    }

    private GitFixtures() {
    }

    static Repo publish(Path source) throws Exception {
        String name = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = Farm.GIT_BASE.resolve(name);
        copyTree(source, dir);
        try (Git git = Git.init().setDirectory(dir.toFile()).setInitialBranch("main").call()) {
            git.add().addFilepattern(".").call();
            PersonIdent who = new PersonIdent("e2e", "e2e@localhost");
            String commit = git.commit().setMessage("fixture").setAuthor(who).setCommitter(who).call().name();
            return new Repo(Farm.GIT_URL_BASE + "/" + name, commit);
        }
    }

    /** A repository holding just these files (path → content). */
    static Repo publishFiles(java.util.Map<String, String> files) throws Exception {
        Path dir = Files.createTempDirectory("fixture");
        for (var file : files.entrySet()) {
            Path target = dir.resolve(file.getKey());
            Files.createDirectories(target.getParent());
            Files.writeString(target, file.getValue());
        }
        return publish(dir);
    }

    /** A repository holding these files (path → content) and symbolic links (path → where it points, as written). */
    static Repo publishWithLinks(java.util.Map<String, String> files, java.util.Map<String, String> links) throws Exception {
        Path dir = Files.createTempDirectory("fixture");
        for (var file : files.entrySet()) {
            Path target = dir.resolve(file.getKey());
            Files.createDirectories(target.getParent());
            Files.writeString(target, file.getValue());
        }
        for (var link : links.entrySet()) {
            Path at = dir.resolve(link.getKey());
            Files.createDirectories(at.getParent());
            Files.createSymbolicLink(at, Path.of(link.getValue()));
        }
        return publish(dir);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            paths.forEach(p -> {
                Path target = to.resolve(from.relativize(p).toString());
                try {
                    if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                        Files.createDirectories(target);
                    } else {
                        // A symbolic link is copied as the link (git stores it as one), never as what it points at.
                        Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
