package dev.buildfarm.controller.tls;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Certificates made with openssl when the tests start, under target/ (never committed): a CA, a
 * server certificate for 127.0.0.1 and localhost, a client certificate it signed, and a second CA
 * with a client certificate of its own, which the server must not accept.
 */
public final class TestCertificates {

    private static TestCertificates made;

    public final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** The certificates of this test run, made on first use. */
    public static synchronized TestCertificates get() {
        if (made == null) {
            try {
                Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "tls-");
                TestCertificates certs = new TestCertificates(dir.toAbsolutePath());
                certs.authority("ca");
                certs.issue("ca", "server", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost");
                certs.issue("ca", "client", "extendedKeyUsage=clientAuth");
                certs.authority("other-ca");
                certs.issue("other-ca", "other-client", "extendedKeyUsage=clientAuth");
                certs.issue("other-ca", "other-server", "extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost");
                made = certs;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return made;
    }

    public String file(String name) {
        return dir.resolve(name).toString();
    }

    private void authority(String name) {
        openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-days", "2", "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign", "-keyout", file(name + ".key"), "-out", file(name + ".crt"));
    }

    private void issue(String ca, String name, String... extensions) {
        try {
            Path ext = dir.resolve(name + ".ext");
            List<String> lines = new ArrayList<>(List.of("basicConstraints=critical,CA:FALSE"));
            lines.addAll(List.of(extensions));
            Files.write(ext, lines, StandardCharsets.UTF_8);
            openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=" + name, "-keyout", file(name + ".key"), "-out", file(name + ".csr"));
            openssl("x509", "-req", "-in", file(name + ".csr"), "-CA", file(ca + ".crt"), "-CAkey", file(ca + ".key"),
                    "-CAcreateserial", "-days", "2", "-sha256", "-extfile", ext.toString(), "-out", file(name + ".crt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.waitFor() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " failed: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
