package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildEvent;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.CreateNamespaceRequest;
import dev.buildfarm.api.v1.CreateTokenRequest;
import dev.buildfarm.api.v1.DeleteRegistryCredentialRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsRequest;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.RegistryCredential;
import dev.buildfarm.api.v1.SetRegistryCredentialRequest;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.TenancyServiceGrpc;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.api.v1.WatchBuildsRequest;
import dev.buildfarm.common.Platform;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A namespace's credential for a registry that wants a login (the stack's htpasswd registry on :5002):
 * a multi-arch build of the namespace publishes there, a namespace without one fails and publishes
 * nothing, and the password, a canary new each run, is nowhere a user or operator could look.
 */
class RegistryCredentialsTest {

    private static final String AUTH_REGISTRY = System.getenv().getOrDefault("AUTH_REGISTRY", "127.0.0.1:5002");
    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String suffix = UUID.randomUUID().toString().substring(0, 8);
    private final String team = "regcred-" + suffix;
    private final String stranger = "regcred-none-" + suffix;
    private final String user = "e2e-" + suffix;
    private final String canary = "canary-" + UUID.randomUUID();

    @Test
    void theNamespacesCredentialPublishesTheIndexAndIsSeenNowhereElse() throws Exception {
        assertThat(engineLogins()).as("the engine's own docker login state must not be what makes this pass")
                .doesNotContain(AUTH_REGISTRY);
        List<String> forms = Canary.forms(canary);
        TenancyServiceGrpc.TenancyServiceBlockingStub operator = TenancyServiceGrpc.newBlockingStub(Farm.channel());
        operator.createNamespace(CreateNamespaceRequest.newBuilder().setNamespaceId(team).build());
        operator.createNamespace(CreateNamespaceRequest.newBuilder().setNamespaceId(stranger).build());
        String teamAdmin = adminToken(operator, team);
        String strangerAdmin = adminToken(operator, stranger);
        var asTeam = as(TenancyServiceGrpc::newBlockingStub, teamAdmin);
        var asStranger = as(TenancyServiceGrpc::newBlockingStub, strangerAdmin);

        addRegistryUser(user, canary);
        try {
            RegistryCredential stored = asTeam.setRegistryCredential(SetRegistryCredentialRequest.newBuilder()
                    .setCredential(RegistryCredential.newBuilder().setRegistry(AUTH_REGISTRY).setUsername(user).setPassword(canary))
                    .build());
            assertThat(stored.getName()).startsWith("namespaces/" + team + "/registryCredentials/");
            assertThat(stored.getPassword()).isEmpty();
            List<RegistryCredential> listed = asTeam.listRegistryCredentials(ListRegistryCredentialsRequest.getDefaultInstance())
                    .getCredentialsList();
            assertThat(listed).extracting(RegistryCredential::getRegistry, RegistryCredential::getUsername)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple(AUTH_REGISTRY, user));
            String answers = stored + "\n" + listed + "\n" + operator.listRegistryCredentials(
                    ListRegistryCredentialsRequest.getDefaultInstance());

            // Another namespace's admin can neither see, replace nor delete it.
            assertThat(code(() -> asStranger.listRegistryCredentials(ListRegistryCredentialsRequest.newBuilder()
                    .setNamespace(team).build()))).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(code(() -> asStranger.setRegistryCredential(SetRegistryCredentialRequest.newBuilder().setNamespace(team)
                    .setCredential(RegistryCredential.newBuilder().setRegistry(AUTH_REGISTRY).setUsername("x").setPassword("y"))
                    .build()))).isEqualTo(Status.Code.PERMISSION_DENIED);
            assertThat(code(() -> asStranger.deleteRegistryCredential(DeleteRegistryCredentialRequest.newBuilder()
                    .setName(stored.getName()).build()))).isEqualTo(Status.Code.PERMISSION_DENIED);

            List<BuildEvent> watched = Collections.synchronizedList(new ArrayList<>());
            Context.CancellableContext watch = watchAll(watched);

            GitFixtures.Repo source = GitFixtures.publishFiles(Map.of("Dockerfile", """
                    FROM 127.0.0.1:5000/library/busybox:latest
                    ARG TARGETPLATFORM
                    RUN echo "built for $TARGETPLATFORM" > /built-for
                    CMD ["cat", "/built-for"]
                    """));
            String tag = "run-" + suffix;
            Build built = submitAndWait(teamAdmin, source, AUTH_REGISTRY + "/" + team + "/app", tag);
            assertThat(built.getState()).as(built.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);

            // The index is in the authenticated registry, with both platforms; anonymous readers get nothing.
            String login = "Basic " + Base64.getEncoder().encodeToString((user + ":" + canary).getBytes(StandardCharsets.UTF_8));
            Registry.Document index = Registry.manifest(AUTH_REGISTRY, team + "/app", tag, login);
            assertThat(index).isNotNull();
            assertThat(index.digest()).isEqualTo(built.getIndexDigest());
            Set<String> indexed = new HashSet<>();
            for (JsonNode child : index.json().path("manifests")) {
                JsonNode p = child.path("platform");
                indexed.add(new Platform(p.path("os").asText(), p.path("architecture").asText(), p.path("variant").asText()).toString());
            }
            assertThat(indexed).containsExactlyInAnyOrderElementsOf(PLATFORMS);
            assertThatThrownBy(() -> Registry.manifest(AUTH_REGISTRY, team + "/app", tag, null)).hasMessageContaining("HTTP 401");

            // A namespace without a credential for the registry fails, says why, and publishes nothing.
            Build refused = submitAndWait(strangerAdmin, source, AUTH_REGISTRY + "/" + stranger + "/app", tag);
            assertThat(refused.getState()).isEqualTo(Build.State.FAILED);
            assertThat(refused.getFailureReason())
                    .contains("registry " + AUTH_REGISTRY).containsIgnoringCase("authentication")
                    .contains("no registry credential for " + AUTH_REGISTRY);
            assertThat(Registry.manifest(AUTH_REGISTRY, stranger + "/app", tag, stackLogin())).as("nothing published").isNull();

            // Where the password must not be: API answers, logs, events, Kafka, the database, log files.
            assertThat(stored.toString() + listed).doesNotContain(canary);
            Canary.assertNowhere("registry credential answers", answers, forms);
            for (Build build : List.of(built, refused)) {
                Canary.assertNowhere("GetBuild", Farm.builds().getBuild(GetBuildRequest.newBuilder().setName(build.getName()).build())
                        .toString(), forms);
                Canary.assertNowhere("StreamBuildLogs", logs(build.getName()), forms);
                String id = build.getName().substring("builds/".length());
                for (String platform : PLATFORMS) {
                    Canary.assertNowhere("dashboard logs", Canary.get("http://" + Farm.HTTP + "/dashboard/api/builds/" + id
                            + "/logs?platform=" + URLEncoder.encode(platform, StandardCharsets.UTF_8)), forms);
                }
                Canary.assertNowhere("dashboard build", Canary.get("http://" + Farm.HTTP + "/dashboard/api/builds/" + id), forms);
            }
            Canary.assertNowhere("ListBuilds", Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setPageSize(100).build()).toString(), forms);
            Canary.assertNowhere("dashboard builds", Canary.get("http://" + Farm.HTTP + "/dashboard/api/builds"), forms);
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> watched.stream()
                    .anyMatch(e -> e.getSubject().equals(refused.getName()) && e.getType().equals("dev.buildfarm.build.failed.v1")));
            watch.cancel(null);
            synchronized (watched) {
                Canary.assertNowhere("WatchBuilds", watched.toString(), forms);
            }
            Canary.assertNowhere("Kafka", Canary.kafkaTopics(), forms);
            String dump = Canary.pgDump();
            assertThat(dump).as("the dump holds the credential's row").contains(user);
            Canary.assertNowhere("pg_dump", dump, forms);
            Canary.assertNotInServiceLogs(forms);

            // Deleted by its admin: gone from the listing.
            asTeam.deleteRegistryCredential(DeleteRegistryCredentialRequest.newBuilder().setName(stored.getName()).build());
            assertThat(asTeam.listRegistryCredentials(ListRegistryCredentialsRequest.getDefaultInstance()).getCredentialsList()).isEmpty();
        } finally {
            removeRegistryUser(user);
        }
    }

    private Build submitAndWait(String token, GitFixtures.Repo source, String repository, String tag) {
        Build submitted = as(BuildServiceGrpc::newBlockingStub, token).submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("regcred-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(source.url()).setRef("main"))
                        .addAllPlatforms(PLATFORMS)
                        .setRepository(repository).addTags(tag))
                .build());
        return Farm.awaitFinal(submitted.getName(), Duration.ofMinutes(10));
    }

    private static String logs(String build) {
        StringBuilder text = new StringBuilder();
        BuildServiceGrpc.newBlockingStub(Farm.channel()).withDeadlineAfter(1, TimeUnit.MINUTES)
                .streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(build).build())
                .forEachRemaining((LogChunk chunk) -> chunk.getLinesList().forEach(l -> text.append(l.getText()).append('\n')));
        assertThat(text).as("the build's log").isNotEmpty();
        return text.toString();
    }

    private static Context.CancellableContext watchAll(List<BuildEvent> into) throws InterruptedException {
        Context.CancellableContext watch = Context.current().withCancellation();
        watch.run(() -> BuildServiceGrpc.newStub(Farm.channel()).watchBuilds(WatchBuildsRequest.getDefaultInstance(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(BuildEvent event) {
                        into.add(event);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
        Thread.sleep(1_000);
        return watch;
    }

    private static String adminToken(TenancyServiceGrpc.TenancyServiceBlockingStub operator, String namespace) {
        return operator.createToken(CreateTokenRequest.newBuilder().setToken(Token.newBuilder().setNamespace(namespace)
                .setRole(Token.Role.ADMIN).setDescription("RegistryCredentialsTest")).build()).getSecret();
    }

    /** A stub on a channel of its own (the farm's shared one sends the operator token) that sends {@code token}. */
    private <S extends AbstractStub<S>> S as(java.util.function.Function<io.grpc.Channel, S> stub, String token) {
        Metadata metadata = new Metadata();
        metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return stub.apply(tenantChannel()).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private io.grpc.ManagedChannel tenantChannel;

    private synchronized io.grpc.ManagedChannel tenantChannel() {
        if (tenantChannel == null) {
            tenantChannel = Farm.channelTo(Farm.ENDPOINT).build();
        }
        return tenantChannel;
    }

    @org.junit.jupiter.api.AfterEach
    void closeChannel() {
        if (tenantChannel != null) {
            tenantChannel.shutdownNow();
        }
    }

    private static Status.Code code(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    /** The registries the machine's docker CLI (and docker-java's defaults) hold logins for. */
    private static Set<String> engineLogins() throws Exception {
        Path config = Path.of(System.getProperty("user.home"), ".docker", "config.json");
        Set<String> hosts = new HashSet<>();
        if (Files.exists(config)) {
            JSON.readTree(config.toFile()).path("auths").fieldNames().forEachRemaining(hosts::add);
        }
        return hosts;
    }

    private static Path htpasswd() {
        return Canary.stackDir().resolve("registry-auth").resolve("htpasswd");
    }

    /** The stack's own login for the registry (dev/stack.sh made it), to look at what it holds. */
    private static String stackLogin() throws Exception {
        Path secrets = Canary.stackDir().resolve("secrets");
        String login = Files.readString(secrets.resolve("registry-5002.user")).strip() + ":"
                + Files.readString(secrets.resolve("registry-5002.password")).strip();
        return "Basic " + Base64.getEncoder().encodeToString(login.getBytes(StandardCharsets.UTF_8));
    }

    /** Adds a user to the registry's htpasswd file (it reads the file again on change); the password goes by stdin. */
    private static void addRegistryUser(String name, String password) throws Exception {
        Process p = new ProcessBuilder("htpasswd", "-B", "-i", htpasswd().toString(), name).redirectErrorStream(true).start();
        p.getOutputStream().write(password.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isZero();
    }

    private static void removeRegistryUser(String name) throws Exception {
        Process p = new ProcessBuilder("htpasswd", "-D", htpasswd().toString(), name).redirectErrorStream(true).start();
        p.waitFor(30, TimeUnit.SECONDS);
    }
}
