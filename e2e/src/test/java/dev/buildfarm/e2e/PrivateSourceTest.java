package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildRuleServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.DeleteRepositoryRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceBinding;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.TagConfig;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A private source: the repository is served over HTTP (git's plain-file protocol) only to a client
 * sending the right Basic credentials. A push fires a rule of the repository holding them, and the
 * agent fetches with them; the same source submitted directly gets none and its checkout is refused.
 * (A push, not RunBuildRule: JGit lists remote refs over the plain-file protocol only into a local
 * repository, which the controller's ls-remote does not have; real git servers speak the smart one.)
 */
class PrivateSourceTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ID = "e2e-private-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String SECRET = "hook-" + UUID.randomUUID();
    private static final SourceCredentials CREDENTIALS = SourceCredentials.newBuilder()
            .setUsername("farm-reader").setPassword("token-" + UUID.randomUUID()).build();
    private static HttpServer server;
    private static String url;
    private static String commit;

    @BeforeAll
    static void privateGitServer() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile",
                "FROM 127.0.0.1:5000/library/busybox:latest\nRUN echo built from a private source\n"));
        commit = repo.commit();
        Path gitDir = Farm.GIT_BASE.resolve(repo.url().substring(repo.url().lastIndexOf('/') + 1)).resolve(".git");
        // The plain-file protocol reads info/refs and objects/info/packs, which git writes on request.
        assertThat(new ProcessBuilder("git", "update-server-info").directory(gitDir.toFile()).inheritIO().start().waitFor()).isZero();

        String expected = "Basic " + Base64.getEncoder().encodeToString(
                (CREDENTIALS.getUsername() + ":" + CREDENTIALS.getPassword()).getBytes(StandardCharsets.UTF_8));
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/private.git/", exchange -> {
            Path file = gitDir.resolve(exchange.getRequestURI().getPath().substring("/private.git/".length())).normalize();
            if (!expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
                exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"private\"");
                exchange.sendResponseHeaders(401, -1);
            } else if (!file.startsWith(gitDir) || !Files.isRegularFile(file)) {
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
        url = "http://127.0.0.1:" + server.getAddress().getPort() + "/private.git";
    }

    @AfterAll
    static void stop() {
        try {
            rules().deleteRepository(DeleteRepositoryRequest.newBuilder().setName("repositories/" + ID).setForce(true).build());
        } finally {
            server.stop(0);
        }
    }

    private static BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules() {
        return BuildRuleServiceGrpc.newBlockingStub(Farm.channel());
    }

    @Test
    void aPushFiresTheRepositorysRuleAndTheAgentFetchesWithItsCredentials() throws Exception {
        Repository repository = rules().createRepository(CreateRepositoryRequest.newBuilder().setRepositoryId(ID)
                .setRepository(Repository.newBuilder().setImage(Farm.REGISTRY + "/e2e/private")
                        .setSource(SourceBinding.newBuilder().setUrl(url).setWebhookSecret(SECRET).setCredentials(CREDENTIALS)))
                .build());
        rules().createBuildRule(CreateBuildRuleRequest.newBuilder().setParent(repository.getName()).setRuleId("main")
                .setRule(BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH).setRefPattern("main")
                        .addTags(TagConfig.newBuilder().setTemplate("latest")).addPlatforms("linux/amd64"))
                .build());

        HttpResponse<String> answer = GitHubPush.send(repository.getWebhookPath(), "refs/heads/main", commit,
                System.currentTimeMillis() / 1000, SECRET);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        String fired = JSON.readTree(answer.body()).path("builds").get(0).path("build").asText();
        Build built = Farm.awaitFinal(fired, Duration.ofMinutes(5));
        assertThat(built.getState()).as(built.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);

        // Naming the same URL is not enough: a direct submission fetches without credentials and is refused.
        Build direct = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder().setSpec(BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl(url).setCommit(commit))
                .addPlatforms("linux/amd64").setRepository(Farm.REGISTRY + "/e2e/private").addTags("direct")).build());
        Build refused = Farm.awaitFinal(direct.getName(), Duration.ofMinutes(5));
        assertThat(refused.getState()).isEqualTo(Build.State.FAILED);
        assertThat(refused.getPlatformBuilds(0).getFailureReason()).contains("Authentication is required");
    }
}
