package dev.buildfarm.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Writes a directory as the tar stream of a build context: entries sorted by name, owners and
 * groups left out, links kept as links, so the same files give the same bytes and the controller
 * stores them once. Files matched by .dockerignore are left out, except the Dockerfile.
 */
final class ContextArchive {

  record Summary(int entries, long fileBytes, List<String> skipped) {}

  private ContextArchive() {}

  static Summary write(Path directory, String dockerfile, OutputStream out) throws IOException {
    Path root = directory.toAbsolutePath().normalize();
    DockerIgnore ignore = DockerIgnore.read(root);
    List<Path> paths;
    try (Stream<Path> walk = Files.walk(root)) {
      paths = walk.filter(p -> !p.equals(root)).sorted().toList();
    }
    int entries = 0;
    long bytes = 0;
    List<String> skipped = new ArrayList<>();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
      tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
      tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
      for (Path path : paths) {
        String name = root.relativize(path).toString().replace('\\', '/');
        if (ignore.excludes(name) && !name.equals(dockerfile)) {
          continue;
        }
        PosixFileAttributes attributes = Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        TarArchiveEntry entry;
        if (attributes.isSymbolicLink()) {
          entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
          entry.setLinkName(Files.readSymbolicLink(path).toString());
        } else if (attributes.isDirectory()) {
          entry = new TarArchiveEntry(name + "/");
        } else if (attributes.isRegularFile()) {
          entry = new TarArchiveEntry(name);
          entry.setSize(attributes.size());
        } else {
          skipped.add(name); // sockets, pipes, devices: not part of a build context
          continue;
        }
        entry.setMode(mode(attributes.isDirectory(), attributes.isSymbolicLink(), attributes.permissions()));
        entry.setModTime(attributes.lastModifiedTime());
        tar.putArchiveEntry(entry);
        if (attributes.isRegularFile()) {
          bytes += Files.copy(path, tar);
        }
        tar.closeArchiveEntry();
        entries++;
      }
      tar.finish();
    }
    return new Summary(entries, bytes, skipped);
  }

  private static int mode(boolean directory, boolean symlink, Set<PosixFilePermission> permissions) {
    int mode = 0;
    for (PosixFilePermission p : permissions) {
      mode |= 1 << (8 - p.ordinal()); // OWNER_READ is ordinal 0 → 0400 ... OTHERS_EXECUTE → 0001
    }
    int type = symlink ? 0120000 : directory ? 0040000 : 0100000;
    return type | mode;
  }
}
