package dev.buildfarm.agent.source;

import dev.buildfarm.common.ContextEntries;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Extracts an uploaded context's tar stream into a directory, creating nothing outside it: every
 * entry follows the context rules again (the controller checked them too), nothing is written
 * through a symbolic link, and every link must still point inside once all are in place (a chain
 * of links can leave a directory although each one alone stays inside). The stream must hash to
 * the expected digest.
 */
public final class ContextExtraction {

    /** Why a context cannot be used; the build fails with this message. */
    public static final class UnsafeContext extends IOException {
        UnsafeContext(String message) {
            super(message);
        }
    }

    private ContextExtraction() {
    }

    /** Returns the number of entries extracted. */
    public static int extract(InputStream stream, String expectedDigest, Path directory) throws IOException {
        Files.createDirectories(directory);
        Path root = directory.toRealPath();
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        DigestInputStream hashed = new DigestInputStream(stream, sha256);
        int count = 0;
        TarArchiveInputStream tar = new TarArchiveInputStream(hashed);
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            count++;
            write(tar, entry, root);
        }
        hashed.transferTo(OutputStream.nullOutputStream()); // the end-of-archive blocks count too
        String actual = "sha256:" + HexFormat.of().formatHex(sha256.digest());
        if (!actual.equals(expectedDigest)) {
            throw new UnsafeContext("the context received has digest " + actual + ", not " + expectedDigest);
        }
        checkLinksStayInside(root);
        return count;
    }

    private static void write(TarArchiveInputStream tar, TarArchiveEntry entry, Path root) throws IOException {
        ContextEntries.Kind kind = ContextEntries.kind(entry);
        Optional<String> problem = ContextEntries.problem(entry.getName(), kind, entry.getLinkName());
        if (problem.isPresent()) {
            throw new UnsafeContext("context entry '" + entry.getName() + "' " + problem.get());
        }
        Path target = root.resolve(entry.getName()).normalize();
        if (target.equals(root)) {
            return; // "./"
        }
        Path parent = target.getParent();
        refuseLinksOnTheWay(root, parent, entry.getName());
        Files.createDirectories(parent);
        if (kind == ContextEntries.Kind.DIRECTORY) {
            if (Files.isSymbolicLink(target)) {
                throw new UnsafeContext("context entry '" + entry.getName() + "' is a directory over a symbolic link");
            }
            Files.createDirectories(target);
            return;
        }
        // A later entry replaces an earlier one of the same name, as tar does; never through a link.
        if (Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            throw new UnsafeContext("context entry '" + entry.getName() + "' replaces a directory");
        }
        Files.deleteIfExists(target);
        switch (kind) {
            case FILE -> {
                Files.copy(tar, target);
                if ((entry.getMode() & 0100) != 0) {
                    Set<PosixFilePermission> permissions = Files.getPosixFilePermissions(target);
                    permissions.addAll(List.of(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.GROUP_EXECUTE,
                            PosixFilePermission.OTHERS_EXECUTE));
                    Files.setPosixFilePermissions(target, permissions);
                }
            }
            case SYMLINK -> Files.createSymbolicLink(target, Path.of(entry.getLinkName()));
            case HARDLINK -> {
                Path source = root.resolve(entry.getLinkName()).normalize();
                refuseLinksOnTheWay(root, source, entry.getName());
                if (!Files.isRegularFile(source, LinkOption.NOFOLLOW_LINKS)) {
                    throw new UnsafeContext("context entry '" + entry.getName() + "' links to '" + entry.getLinkName()
                            + "', which is not a file extracted before it");
                }
                Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
            }
            default -> throw new IllegalStateException(kind.toString());
        }
    }

    /** Every existing path from the root down to {@code path} must be a real directory, not a link. */
    private static void refuseLinksOnTheWay(Path root, Path path, String entry) throws UnsafeContext {
        Path current = root;
        for (Path part : root.relativize(path)) {
            current = current.resolve(part);
            if (Files.isSymbolicLink(current)) {
                throw new UnsafeContext("context entry '" + entry + "' is written through the symbolic link '"
                        + root.relativize(current) + "'");
            }
        }
    }

    private static void checkLinksStayInside(Path root) throws IOException {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path link : paths.filter(Files::isSymbolicLink).toList()) {
                try {
                    if (!link.toRealPath().startsWith(root)) {
                        throw new UnsafeContext("context entry '" + root.relativize(link)
                                + "' is a symbolic link that resolves outside the context");
                    }
                } catch (NoSuchFileException dangling) {
                    // points at nothing: harmless
                }
            }
        }
    }
}
