package dev.buildfarm.agent.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.buildfarm.api.v1.SourceCredentials;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.TransportException;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A private source: a bare repository served over HTTP (git's "dumb" protocol, plain files) behind
 * Basic authentication, as a git server that wants a token answers 401 until it gets one.
 */
class GitCheckoutTest {

    private static final SourceCredentials TOKEN = SourceCredentials.newBuilder().setUsername("builder").setPassword("t0ken-5ecret").build();

    @TempDir
    Path temp;

    private HttpServer server;
    private final java.util.concurrent.atomic.AtomicInteger served = new java.util.concurrent.atomic.AtomicInteger();
    private String url;
    private String commit;

    @BeforeEach
    void privateRepository() throws Exception {
        Path work = temp.resolve("work");
        try (Git git = Git.init().setDirectory(work.toFile()).setInitialBranch("main").call()) {
            Files.writeString(work.resolve("Dockerfile"), "FROM scratch\n");
            git.add().addFilepattern("Dockerfile").call();
            RevCommit made = git.commit().setMessage("private").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com").call();
            commit = made.name();
        }
        Path bare = temp.resolve("served/app.git");
        Git.cloneRepository().setBare(true).setURI(work.toUri().toString()).setDirectory(bare.toFile()).call().close();
        // The dumb protocol reads info/refs and objects/info/packs, which git writes on request.
        Process info = new ProcessBuilder("git", "update-server-info").directory(bare.toFile()).inheritIO().start();
        assertThat(info.waitFor()).isZero();

        Path root = temp.resolve("served");
        String expected = "Basic " + Base64.getEncoder().encodeToString(
                (TOKEN.getUsername() + ":" + TOKEN.getPassword()).getBytes(StandardCharsets.UTF_8));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            served.incrementAndGet();
            Path file = root.resolve(exchange.getRequestURI().getPath().substring(1)).normalize();
            if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
                exchange.sendResponseHeaders(401, -1);
            } else if (!file.startsWith(root) || !Files.isRegularFile(file)) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                byte[] body = Files.readAllBytes(file);
                exchange.sendResponseHeaders(200, body.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(body);
                }
            }
            exchange.close();
        });
        server.start();
        url = "http://127.0.0.1:" + server.getAddress().getPort() + "/app.git";
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    @Test
    void fetchesAPrivateSourceWithTheClaimsCredentials() throws Exception {
        Path checkout = temp.resolve("checkout");
        GitCheckout.checkout(url, commit, checkout, Optional.of(TOKEN));

        assertThat(checkout.resolve("Dockerfile")).hasContent("FROM scratch");
        try (Git git = Git.open(checkout.toFile())) {
            assertThat(git.getRepository().resolve("HEAD").name()).isEqualTo(commit);
        }
        // The checkout is the build context: the token must not be left in it.
        assertThat(Files.readString(checkout.resolve(".git/config"))).doesNotContain(TOKEN.getPassword());
    }

    @Test
    void withoutOrWithWrongCredentialsTheFetchIsRefused() {
        assertThatThrownBy(() -> GitCheckout.checkout(url, commit, temp.resolve("anonymous"), Optional.empty()))
                .isInstanceOf(TransportException.class).hasMessageContaining("Authentication is required");
        SourceCredentials wrong = TOKEN.toBuilder().setPassword("guess").build();
        assertThatThrownBy(() -> GitCheckout.checkout(url, commit, temp.resolve("wrong"), Optional.of(wrong)))
                .isInstanceOf(TransportException.class).hasMessageContaining("not authorized");
    }

    @Test
    void aSourceWhoseNameNowResolvesToAMetadataAddressIsNotFetched() {
        // The name passed at submit time; by the time the agent fetches, it resolves to the metadata service.
        dev.buildfarm.common.SourceHosts rebound = new dev.buildfarm.common.SourceHosts(
                host -> new java.net.InetAddress[] {java.net.InetAddress.getByName("169.254.169.254")});
        Path checkout = temp.resolve("rebound");
        assertThatThrownBy(() -> GitCheckout.checkout(url.replace("127.0.0.1", "git.example"), commit, checkout, Optional.of(TOKEN), rebound))
                .isInstanceOf(dev.buildfarm.common.SourceHosts.Refused.class)
                .hasMessageContaining("'git.example' resolves to 169.254.169.254");
        assertThat(checkout).doesNotExist();
    }

    @Test
    void aRedirectIsNotFollowed() throws Exception {
        // The host named in the URL was checked; the one a redirect names never is.
        HttpServer redirector = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        redirector.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Location", url + exchange.getRequestURI().getPath().substring("/app.git".length())
                    + (exchange.getRequestURI().getRawQuery() == null ? "" : "?" + exchange.getRequestURI().getRawQuery()));
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        redirector.start();
        try {
            String redirecting = "http://127.0.0.1:" + redirector.getAddress().getPort() + "/app.git";
            assertThatThrownBy(() -> GitCheckout.checkout(redirecting, commit, temp.resolve("redirected"), Optional.of(TOKEN)))
                    .isInstanceOf(TransportException.class);
            assertThat(served).as("requests that reached the redirect's target").hasValue(0);
        } finally {
            redirector.stop(0);
        }
    }
}
