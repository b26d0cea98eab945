package dev.buildfarm.assembler.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Retry and verification behaviour that a healthy real registry cannot show: a scripted HTTP server. */
class RegistryClientTest {
    private static final byte[] MANIFEST = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}"
            .getBytes(StandardCharsets.UTF_8);
    private static final String DIGEST = Digests.sha256(MANIFEST);

    private HttpServer server;
    private Repository repo;
    private RegistryClient client;
    private final AtomicInteger calls = new AtomicInteger();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.start();
        String host = "127.0.0.1:" + server.getAddress().getPort();
        repo = new Repository(host, "demo/hello");
        client = new RegistryClient(new RegistryClient.Settings(Set.of(host), 4, Duration.ofMillis(5),
                Duration.ofMillis(20), Duration.ofSeconds(2), Duration.ofSeconds(5)));
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    /** Answers 503 (with Retry-After: 0) {@code failures} times, then serves {@code body}. */
    private void serve(int failures, byte[] body) {
        server.createContext("/v2/demo/hello/manifests/", exchange -> {
            if (calls.incrementAndGet() <= failures) {
                exchange.getResponseHeaders().add("Retry-After", "0");
                exchange.sendResponseHeaders(503, -1);
            } else {
                exchange.getResponseHeaders().add("Content-Type", MediaTypes.OCI_MANIFEST);
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
    }

    @Test
    void retriesServerErrorsThenSucceeds() {
        serve(2, MANIFEST);

        RegistryClient.Manifest m = client.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS);

        assertThat(m.digest()).isEqualTo(DIGEST);
        assertThat(m.mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(calls).hasValue(3);
    }

    @Test
    void givesUpAfterMaxAttempts() {
        serve(Integer.MAX_VALUE, MANIFEST);

        assertThatThrownBy(() -> client.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS))
                .isInstanceOf(RegistryUnavailableException.class)
                .hasMessageContaining("503").hasMessageContaining("4 tries");
        assertThat(calls).hasValue(4);
    }

    @Test
    void refusesBytesThatDoNotMatchTheDigest() {
        serve(0, "{\"tampered\":true}".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> client.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS))
                .isInstanceOfSatisfying(DigestMismatchException.class, e -> assertThat(e.expected()).isEqualTo(DIGEST));
    }

    @Test
    void notFoundIsNotRetried() {
        server.createContext("/v2/demo/hello/manifests/", exchange -> {
            calls.incrementAndGet();
            byte[] body = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}".getBytes();
            exchange.sendResponseHeaders(404, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });

        assertThatThrownBy(() -> client.getManifest(repo, DIGEST, List.of(MediaTypes.OCI_MANIFEST)))
                .isInstanceOfSatisfying(RegistryException.class, e -> assertThat(e.isNotFound()).isTrue())
                .hasMessageContaining("MANIFEST_UNKNOWN: manifest unknown");
        assertThat(calls).hasValue(1);
    }

    /** A registry behind a token service: the manifest answers only to a Bearer token the realm gave for the login. */
    private void serveBehindTokenService(List<String> tokenQueries) {
        String realm = "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
        String basic = "Basic " + java.util.Base64.getEncoder().encodeToString("robot:s3cret".getBytes(StandardCharsets.UTF_8));
        server.createContext("/token", exchange -> {
            tokenQueries.add(exchange.getRequestURI().getRawQuery());
            boolean loggedIn = basic.equals(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] body = (loggedIn ? "{\"token\":\"tok-1\"}" : "{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"bad login\"}]}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(loggedIn ? 200 : 401, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.createContext("/v2/demo/hello/manifests/", exchange -> {
            calls.incrementAndGet();
            if (!"Bearer tok-1".equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate",
                        "Bearer realm=\"" + realm + "\",service=\"test-registry\",scope=\"repository:demo/hello:pull\"");
                exchange.sendResponseHeaders(401, -1);
            } else {
                exchange.getResponseHeaders().add("Content-Type", MediaTypes.OCI_MANIFEST);
                exchange.sendResponseHeaders(200, MANIFEST.length);
                exchange.getResponseBody().write(MANIFEST);
            }
            exchange.close();
        });
    }

    @Test
    void answersABearerChallengeWithATokenFetchedWithTheLogin() {
        List<String> tokenQueries = new java.util.concurrent.CopyOnWriteArrayList<>();
        serveBehindTokenService(tokenQueries);
        RegistryClient authenticated = client.withLogins(host -> host.equals(repo.host())
                ? java.util.Optional.of(new RegistryClient.Login("robot", "s3cret")) : java.util.Optional.empty());

        assertThat(authenticated.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS).digest()).isEqualTo(DIGEST);
        assertThat(authenticated.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS).digest()).isEqualTo(DIGEST);

        assertThat(tokenQueries).as("one token, for the challenge's service and scope")
                .containsExactly("service=test-registry&scope=repository%3Ademo%2Fhello%3Apull");
        assertThat(calls).as("the challenge, then two requests with the token").hasValue(3);
    }

    @Test
    void aRefusedOrMissingLoginIsAnErrorThatNamesTheRegistryButNoSecret() {
        serveBehindTokenService(new java.util.concurrent.CopyOnWriteArrayList<>());
        RegistryClient wrong = client.withLogins(host -> java.util.Optional.of(new RegistryClient.Login("robot", "wrong-pass")));

        assertThatThrownBy(() -> wrong.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("user 'robot'").hasMessageContaining("401").hasMessageNotContaining("wrong-pass");
        assertThatThrownBy(() -> client.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining(repo.host()).hasMessageContaining("anonymous");
    }

    @Test
    void answersABasicChallengeWithTheLogin() {
        String basic = "Basic " + java.util.Base64.getEncoder().encodeToString("robot:s3cret".getBytes(StandardCharsets.UTF_8));
        server.createContext("/v2/demo/hello/manifests/", exchange -> {
            calls.incrementAndGet();
            if (!basic.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"registry\"");
                exchange.sendResponseHeaders(401, -1);
            } else {
                exchange.getResponseHeaders().add("Content-Type", MediaTypes.OCI_MANIFEST);
                exchange.sendResponseHeaders(200, MANIFEST.length);
                exchange.getResponseBody().write(MANIFEST);
            }
            exchange.close();
        });
        RegistryClient authenticated = client.withLogins(host -> java.util.Optional.of(new RegistryClient.Login("robot", "s3cret")));

        authenticated.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS);
        authenticated.getManifest(repo, DIGEST, MediaTypes.IMAGE_MANIFESTS);

        assertThat(calls).as("challenged once, then the login sent up front").hasValue(3);
    }
}
