package dev.buildfarm.controller.context;

import com.google.protobuf.ByteString;
import dev.buildfarm.api.v1.Context;
import dev.buildfarm.common.ContextEntries;
import dev.buildfarm.controller.api.ApiError;
import io.quarkus.runtime.configuration.MemorySize;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Uploaded build contexts on disk, named by the sha256 of their tar stream
 * ({@code <directory>/sha256/<hex>.tar}), so the same context is stored once. An upload is written
 * to a temporary file while it is hashed and counted, checked entry by entry once complete, and only
 * then moved under its name.
 */
@ApplicationScoped
public class ContextStore {

    public static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    @ConfigProperty(name = "buildfarm.contexts.directory")
    Path directory;

    @ConfigProperty(name = "buildfarm.contexts.max-size")
    MemorySize maxSize;

    public long maxBytes() {
        return maxSize.asLongValue();
    }

    public Upload begin() {
        try {
            Files.createDirectories(directory.resolve("tmp"));
            Files.createDirectories(directory.resolve("sha256"));
            return new Upload(Files.createTempFile(directory.resolve("tmp"), "upload-", ".tar"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The stored tar of a digest, if it was uploaded. */
    public Optional<Path> find(String digest) {
        if (!DIGEST.matcher(digest).matches()) {
            return Optional.empty();
        }
        Path file = directory.resolve("sha256").resolve(digest.substring("sha256:".length()) + ".tar");
        return Files.isRegularFile(file) ? Optional.of(file) : Optional.empty();
    }

    /** One upload in progress; not thread-safe (a gRPC stream delivers its messages in order). */
    public final class Upload {
        private final Path temp;
        private final OutputStream out;
        private final MessageDigest sha256;
        private long size;

        private Upload(Path temp) throws IOException {
            this.temp = temp;
            this.out = Files.newOutputStream(temp);
            try {
                this.sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Appends a chunk; over the size limit the upload is discarded and RESOURCE_EXHAUSTED thrown. */
        public void write(ByteString chunk) {
            size += chunk.size();
            if (size > maxBytes()) {
                abort();
                throw ApiError.resourceExhausted("CONTEXT_TOO_LARGE", "data", "the context is larger than the limit of "
                        + maxBytes() + " bytes (buildfarm.contexts.max-size); leave files out with .dockerignore");
            }
            try {
                chunk.writeTo(out);
            } catch (IOException e) {
                abort();
                throw new UncheckedIOException(e);
            }
            chunk.asReadOnlyByteBufferList().forEach(sha256::update);
        }

        /** Checks every entry and stores the context under its digest, unless it already is. */
        public Context finish() {
            try {
                out.close();
                if (size == 0) {
                    throw ApiError.invalid("data", "the upload is empty; send the context as a tar stream");
                }
                int entries = check(temp);
                String digest = "sha256:" + HexFormat.of().formatHex(sha256.digest());
                Path target = directory.resolve("sha256").resolve(digest.substring("sha256:".length()) + ".tar");
                boolean existed = Files.exists(target);
                if (!existed) {
                    try {
                        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                    } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                        existed = true; // the same context arrived twice at once; one copy is enough
                    }
                }
                return Context.newBuilder().setDigest(digest).setSizeBytes(size).setEntries(entries).setExisted(existed).build();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } finally {
                deleteQuietly(temp);
            }
        }

        public void abort() {
            try {
                out.close();
            } catch (IOException ignored) {
                // the file is deleted anyway
            }
            deleteQuietly(temp);
        }
    }

    /** The number of entries; INVALID_ARGUMENT naming the first entry that breaks a rule. */
    static int check(Path tar) throws IOException {
        int count = 0;
        try (InputStream in = Files.newInputStream(tar); TarArchiveInputStream entries = new TarArchiveInputStream(in)) {
            TarArchiveEntry entry;
            while ((entry = nextEntry(entries)) != null) {
                count++;
                Optional<String> problem = ContextEntries.problem(entry);
                if (problem.isPresent()) {
                    throw ApiError.invalid("data", "entry '" + entry.getName() + "' " + problem.get());
                }
            }
        }
        if (count == 0) {
            throw ApiError.invalid("data", "is not a tar stream (no entries)");
        }
        return count;
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream entries) {
        try {
            return entries.getNextEntry();
        } catch (IOException | IllegalArgumentException e) {
            throw ApiError.invalid("data", "is not a valid tar stream: " + e.getMessage());
        }
    }

    private static void deleteQuietly(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // a leftover temporary file is harmless
        }
    }
}
