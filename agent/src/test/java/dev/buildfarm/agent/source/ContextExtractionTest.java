package dev.buildfarm.agent.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Extraction on a real file system: what lands where, and what is refused before it lands outside. */
class ContextExtractionTest {

    @TempDir Path temp;

    @Test
    void filesDirectoriesLinksAndTheExecutableBitArrive() throws Exception {
        byte[] tar = tar(t -> {
            dir(t, "src/");
            file(t, "src/run.sh", "#!/bin/sh\necho hi\n", 0755);
            file(t, "Dockerfile", "FROM scratch\n", 0644);
            symlink(t, "src/Dockerfile.link", "../Dockerfile");
        });
        Path ws = temp.resolve("ws");

        assertThat(ContextExtraction.extract(new ByteArrayInputStream(tar), digest(tar), ws)).isEqualTo(4);

        assertThat(ws.resolve("src/run.sh")).hasContent("#!/bin/sh\necho hi");
        assertThat(Files.isExecutable(ws.resolve("src/run.sh"))).isTrue();
        assertThat(Files.readSymbolicLink(ws.resolve("src/Dockerfile.link"))).isEqualTo(Path.of("../Dockerfile"));
        assertThat(ws.resolve("src/Dockerfile.link")).hasContent("FROM scratch");
    }

    @Test
    void aChainOfLinksThatLeavesTheContextIsRefused() throws Exception {
        // Each link alone stays inside; together a/b/e resolves to the parent of the context.
        byte[] tar = tar(t -> {
            dir(t, "a/b/");
            symlink(t, "a/b/d", "../..");
            symlink(t, "a/b/e", "d/../..");
        });
        Path ws = temp.resolve("ws");
        assertThatThrownBy(() -> ContextExtraction.extract(new ByteArrayInputStream(tar), digest(tar), ws))
                .hasMessageContaining("'a/b/e' is a symbolic link that resolves outside the context");
    }

    @Test
    void nothingIsWrittenThroughALink() throws Exception {
        Path outside = Files.createDirectories(temp.resolve("outside"));
        byte[] tar = tar(t -> {
            symlink(t, "sub", ".");
            file(t, "sub/x", "x", 0644);
        });
        Path ws = temp.resolve("ws");
        assertThatThrownBy(() -> ContextExtraction.extract(new ByteArrayInputStream(tar), digest(tar), ws))
                .hasMessageContaining("'sub/x' is written through the symbolic link 'sub'");
        assertThat(outside).isEmptyDirectory();
    }

    @Test
    void escapingNamesAndAWrongDigestAreRefused() throws Exception {
        byte[] evil = tar(t -> file(t, "../evil", "x", 0644));
        assertThatThrownBy(() -> ContextExtraction.extract(new ByteArrayInputStream(evil), digest(evil), temp.resolve("ws")))
                .hasMessageContaining("'../evil' has a '..' component");
        assertThat(temp.resolve("evil")).doesNotExist();

        byte[] fine = tar(t -> file(t, "Dockerfile", "FROM scratch\n", 0644));
        assertThatThrownBy(() -> ContextExtraction.extract(new ByteArrayInputStream(fine), "sha256:" + "0".repeat(64), temp.resolve("ws2")))
                .hasMessageContaining("not sha256:0000");
    }

    interface Entries {
        void write(TarArchiveOutputStream tar) throws IOException;
    }

    static byte[] tar(Entries entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            entries.write(tar);
        }
        return bytes.toByteArray();
    }

    static void dir(TarArchiveOutputStream tar, String name) throws IOException {
        tar.putArchiveEntry(new TarArchiveEntry(name));
        tar.closeArchiveEntry();
    }

    static void file(TarArchiveOutputStream tar, String name, String content, int mode) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry entry = new TarArchiveEntry(name, true);
        entry.setSize(data.length);
        entry.setMode(mode);
        tar.putArchiveEntry(entry);
        tar.write(data);
        tar.closeArchiveEntry();
    }

    static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
        entry.setLinkName(target);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
    }

    static String digest(byte[] data) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
