package dev.buildfarm.common;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Optional;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;

/**
 * The rules an entry of an uploaded build context must follow, so that extracting it can only
 * create files inside the context directory: a relative name without "..", and a link whose target
 * stays inside too. The controller checks them on upload; the agent again when it extracts.
 */
public final class ContextEntries {

    public enum Kind { FILE, DIRECTORY, SYMLINK, HARDLINK, OTHER }

    private ContextEntries() {
    }

    /** Why a tar entry is refused, or empty when it is fine. */
    public static Optional<String> problem(TarArchiveEntry entry) {
        return problem(entry.getName(), kind(entry), entry.getLinkName());
    }

    public static Kind kind(TarArchiveEntry entry) {
        // Checked first: commons-compress counts any non-directory without a trailing '/' as a file.
        if (entry.isCharacterDevice() || entry.isBlockDevice() || entry.isFIFO()) {
            return Kind.OTHER;
        }
        if (entry.isSymbolicLink()) {
            return Kind.SYMLINK;
        }
        if (entry.isLink()) {
            return Kind.HARDLINK;
        }
        if (entry.isDirectory()) {
            return Kind.DIRECTORY;
        }
        return entry.isFile() ? Kind.FILE : Kind.OTHER;
    }

    /**
     * Why the entry is refused, or empty when it is fine. {@code link} is the target of a symbolic
     * link (relative to the entry's directory) or of a hard link (a name in the archive).
     */
    public static Optional<String> problem(String name, Kind kind, String link) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) {
            return Optional.of("has an empty or invalid name");
        }
        if (name.startsWith("/")) {
            return Optional.of("is an absolute path");
        }
        for (String part : name.split("/")) {
            if (part.equals("..")) {
                return Optional.of("has a '..' component");
            }
        }
        return switch (kind) {
            case FILE, DIRECTORY -> Optional.empty();
            case OTHER -> Optional.of("is not a file, directory or link (devices and pipes are not allowed)");
            case HARDLINK -> link.startsWith("/") || normalise("", link).filter(l -> !l.isEmpty()).isEmpty()
                    ? Optional.of("is a hard link to '" + link + "', outside the context") : Optional.empty();
            case SYMLINK -> {
                if (link.startsWith("/")) {
                    yield Optional.of("is a symbolic link to the absolute path '" + link + "'");
                }
                String entry = normalise("", name).get();
                int slash = entry.lastIndexOf('/');
                String directory = slash < 0 ? "" : entry.substring(0, slash);
                yield normalise(directory, link).isEmpty()
                        ? Optional.of("is a symbolic link to '" + link + "', outside the context") : Optional.empty();
            }
        };
    }

    /**
     * {@code path} resolved against {@code directory} (both relative, '/'-separated) with "." and
     * ".." applied; empty when it climbs above the root.
     */
    static Optional<String> normalise(String directory, String path) {
        Deque<String> parts = new ArrayDeque<>();
        for (String part : (directory + "/" + path).split("/")) {
            if (part.isEmpty() || part.equals(".")) {
                continue;
            }
            if (part.equals("..")) {
                if (parts.isEmpty()) {
                    return Optional.empty();
                }
                parts.removeLast();
            } else {
                parts.addLast(part);
            }
        }
        return Optional.of(String.join("/", parts));
    }
}
