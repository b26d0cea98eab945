package dev.buildfarm.controller.tenancy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.FieldMask;
import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.AttachRequest;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildRuleServiceGrpc;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.ClaimJobRequest;
import dev.buildfarm.api.v1.Context;
import dev.buildfarm.api.v1.ContextChunk;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.CreateNamespaceRequest;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.CreateTokenRequest;
import dev.buildfarm.api.v1.DeleteBuildRuleRequest;
import dev.buildfarm.api.v1.DeleteRepositoryRequest;
import dev.buildfarm.api.v1.FetchContextRequest;
import dev.buildfarm.api.v1.FinishJobRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GetBuildRuleRequest;
import dev.buildfarm.api.v1.GetRepositoryRequest;
import dev.buildfarm.api.v1.HeartbeatRequest;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.api.v1.ListBuildRulesRequest;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListNamespacesRequest;
import dev.buildfarm.api.v1.ListRepositoriesRequest;
import dev.buildfarm.api.v1.ListTokensRequest;
import dev.buildfarm.api.v1.ReportAgentRequest;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.RetryBuildRequest;
import dev.buildfarm.api.v1.RevokeTokenRequest;
import dev.buildfarm.api.v1.DeleteRegistryCredentialRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsRequest;
import dev.buildfarm.api.v1.RegistryCredential;
import dev.buildfarm.api.v1.SetRegistryCredentialRequest;
import dev.buildfarm.api.v1.RunBuildRuleRequest;
import dev.buildfarm.api.v1.SourceBinding;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.api.v1.TenancyServiceGrpc;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.api.v1.UpdateBuildRuleRequest;
import dev.buildfarm.api.v1.UpdateRepositoryRequest;
import dev.buildfarm.api.v1.WatchBuildsRequest;
import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.sql.DataSource;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every RPC of every service on the controller, called with each kind of wrong credential, gets
 * UNAUTHENTICATED or PERMISSION_DENIED as the token decides, and changes no row of any table.
 */
@QuarkusTest
@TestProfile(AuthProfile.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AuthTest {

    /** The credentials an attempt is made with. */
    enum Attempt { NO_TOKEN, UNKNOWN, MALFORMED, REVOKED, OTHER_NAMESPACE, ROLE_TOO_WEAK, AGENT_ON_TENANT_API, TENANT_ON_AGENT_API, OPERATOR_ON_AGENT_API }

    private static final List<ServiceDescriptor> SERVICES = List.of(BuildServiceGrpc.getServiceDescriptor(),
            BuildRuleServiceGrpc.getServiceDescriptor(), TenancyServiceGrpc.getServiceDescriptor(),
            AgentServiceGrpc.getServiceDescriptor());
    /** Tenant RPCs that touch no one namespace: listings (filtered, tested apart), agents, content-addressed uploads. */
    private static final Set<String> NOT_NAMESPACED = Set.of("BuildService/ListBuilds", "BuildService/ListAgents",
            "BuildService/UploadContext", "BuildRuleService/ListRepositories", "TenancyService/ListNamespaces");

    private final int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
    private final ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    private final String suffix = UUID.randomUUID().toString().substring(0, 8);
    private final String nsA = "auth-a-" + suffix;
    private final String nsB = "auth-b-" + suffix;
    private final Map<Token.Role, String> tokensA = new EnumMap<>(Token.Role.class);
    private String adminB;
    private String agent;
    private String revoked;
    private String buildA;
    private String contextDigest;
    private String repositoryA;
    private String ruleA;
    private String credentialA;

    @Inject
    DataSource db;

    @BeforeAll
    void fixtures() {
        String operator = AuthProfile.OPERATOR_TOKEN;
        TenancyServiceGrpc.TenancyServiceBlockingStub tenancy = with(TenancyServiceGrpc.newBlockingStub(channel), operator);
        tenancy.createNamespace(CreateNamespaceRequest.newBuilder().setNamespaceId(nsA).build());
        tenancy.createNamespace(CreateNamespaceRequest.newBuilder().setNamespaceId(nsB).build());
        for (Token.Role role : List.of(Token.Role.VIEWER, Token.Role.SUBMITTER, Token.Role.ADMIN)) {
            tokensA.put(role, token(operator, Token.newBuilder().setNamespace(nsA).setRole(role)));
        }
        // An admin of a namespace makes tokens for it; an operator makes agent tokens.
        adminB = token(token(operator, Token.newBuilder().setNamespace(nsB).setRole(Token.Role.ADMIN)),
                Token.newBuilder().setNamespace(nsB).setRole(Token.Role.ADMIN));
        agent = token(operator, Token.newBuilder().setKind(Token.Kind.AGENT));
        revoked = token(operator, Token.newBuilder().setNamespace(nsA).setRole(Token.Role.ADMIN));
        tenancy.revokeToken(RevokeTokenRequest.newBuilder().setName(nameOf(revoked)).build());

        // A submitter of A builds in A; its admin keeps a repository with a rule there.
        String submitter = tokensA.get(Token.Role.SUBMITTER);
        contextDigest = upload(submitter).getDigest();
        buildA = with(BuildServiceGrpc.newBlockingStub(channel), submitter).submitBuild(submit(nsA)).getName();
        BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules = with(BuildRuleServiceGrpc.newBlockingStub(channel),
                tokensA.get(Token.Role.ADMIN));
        repositoryA = rules.createRepository(createRepository(nsA, "repo-" + suffix)).getName();
        ruleA = rules.createBuildRule(CreateBuildRuleRequest.newBuilder().setParent(repositoryA).setRuleId("main")
                .setRule(rule()).build()).getName();
        credentialA = with(TenancyServiceGrpc.newBlockingStub(channel), tokensA.get(Token.Role.ADMIN))
                .setRegistryCredential(registryCredential(nsA)).getName();
    }

    @AfterAll
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void everyRpcRefusesEveryWrongCredentialAndStoresNothing() throws Exception {
        Map<String, Function<Channel, Object>> calls = calls();
        List<String> methods = SERVICES.stream().flatMap(s -> s.getMethods().stream())
                .map(MethodDescriptor::getFullMethodName).map(m -> m.substring("buildfarm.v1.".length())).toList();
        assertThat(calls.keySet()).as("a call for every RPC").containsExactlyInAnyOrderElementsOf(methods);

        // The relay empties the outbox of the fixture's build on its own; wait so counts stand still.
        Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> rowCounts().getOrDefault("outbox", 0L) == 0);
        Map<String, Long> before = rowCounts();
        List<String> mismatches = new ArrayList<>();
        int attempts = 0;
        for (Map.Entry<String, Function<Channel, Object>> call : calls.entrySet()) {
            for (Attempt attempt : Attempt.values()) {
                Status.Code expected = expected(call.getKey(), attempt);
                if (expected == null) {
                    continue;
                }
                attempts++;
                Status.Code got = code(() -> call.getValue().apply(new Channel(header(call.getKey(), attempt))));
                if (got != expected) {
                    mismatches.add(call.getKey() + " with " + attempt + ": expected " + expected + ", got " + got);
                }
            }
        }
        assertThat(mismatches).isEmpty();
        assertThat(attempts).isGreaterThan(150);
        assertThat(rowCounts()).as("rows of every table").isEqualTo(before);
    }

    @Test
    void listingsAndWatchesShowOnlyTheCallersNamespace() {
        var asB = with(BuildServiceGrpc.newBlockingStub(channel), adminB);
        var asA = with(BuildServiceGrpc.newBlockingStub(channel), tokensA.get(Token.Role.VIEWER));
        assertThat(asA.listBuilds(ListBuildsRequest.newBuilder().setPageSize(100).build()).getBuildsList())
                .extracting(Build::getName).contains(buildA);
        assertThat(asA.listBuilds(ListBuildsRequest.newBuilder().setPageSize(100).build()).getBuildsList())
                .extracting(Build::getNamespace).containsOnly(nsA);
        assertThat(asB.listBuilds(ListBuildsRequest.newBuilder().setPageSize(100).build()).getBuildsList())
                .extracting(Build::getNamespace).doesNotContain(nsA);
        assertThat(with(BuildRuleServiceGrpc.newBlockingStub(channel), adminB)
                .listRepositories(ListRepositoriesRequest.getDefaultInstance()).getRepositoriesList())
                .extracting(Repository::getName).doesNotContain(repositoryA);
        assertThat(with(TenancyServiceGrpc.newBlockingStub(channel), adminB)
                .listNamespaces(ListNamespacesRequest.getDefaultInstance()).getNamespacesList())
                .extracting(n -> n.getName()).containsExactly("namespaces/" + nsB);
        // The namespace is the token's: naming A's repository in B's request body does not reach A.
        assertThat(code(() -> asB.submitBuild(submit(nsA)))).isEqualTo(Status.Code.PERMISSION_DENIED);
    }

    @Test
    void tokensAreStoredHashedAndRevocationTakesEffectAtOnce() throws SQLException {
        String token = token(tokensA.get(Token.Role.ADMIN), Token.newBuilder().setNamespace(nsA).setRole(Token.Role.VIEWER));
        String id = token.substring(3, 19);
        String secret = token.substring(20);
        try (Connection c = db.getConnection(); ResultSet rs = c.createStatement()
                .executeQuery("select secret_sha256 from api_token where id = '" + id + "'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo(Tokens.sha256(secret)).doesNotContain(secret);
        }
        var viewer = with(BuildServiceGrpc.newBlockingStub(channel), token);
        assertThat(viewer.getBuild(GetBuildRequest.newBuilder().setName(buildA).build()).getNamespace()).isEqualTo(nsA);
        with(TenancyServiceGrpc.newBlockingStub(channel), tokensA.get(Token.Role.ADMIN))
                .revokeToken(RevokeTokenRequest.newBuilder().setName("tokens/" + id).build());
        assertThat(code(() -> viewer.getBuild(GetBuildRequest.newBuilder().setName(buildA).build())))
                .isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(with(TenancyServiceGrpc.newBlockingStub(channel), tokensA.get(Token.Role.ADMIN))
                .listTokens(ListTokensRequest.newBuilder().setNamespace(nsA).build()).getTokensList())
                .filteredOn(t -> t.getName().equals("tokens/" + id)).singleElement()
                .satisfies(t -> assertThat(t.hasRevokeTime()).isTrue());
    }

    @Test
    void agentTokensReachTheAgentServiceOnly() {
        Status.Code code = code(() -> with(AgentServiceGrpc.newBlockingStub(channel), agent)
                .heartbeat(HeartbeatRequest.newBuilder().setJobId(UUID.randomUUID().toString()).setAttempt(1).build()));
        assertThat(code).isNotIn(Status.Code.UNAUTHENTICATED, Status.Code.PERMISSION_DENIED);
    }

    private Status.Code expected(String method, Attempt attempt) {
        boolean agentApi = method.startsWith("AgentService/");
        String service = method.substring(0, method.indexOf('/'));
        return switch (attempt) {
            case NO_TOKEN, UNKNOWN, MALFORMED, REVOKED -> Status.Code.UNAUTHENTICATED;
            case TENANT_ON_AGENT_API, OPERATOR_ON_AGENT_API -> agentApi ? Status.Code.PERMISSION_DENIED : null;
            case AGENT_ON_TENANT_API -> agentApi ? null : Status.Code.PERMISSION_DENIED;
            case OTHER_NAMESPACE -> agentApi || NOT_NAMESPACED.contains(method) ? null : Status.Code.PERMISSION_DENIED;
            case ROLE_TOO_WEAK -> agentApi || weaker(method) == null ? null : Status.Code.PERMISSION_DENIED;
        };
    }

    /** The role just below the least one the method needs, or null when it needs only VIEWER. */
    private static Token.Role weaker(String method) {
        Token.Role least = RpcRoles.least("buildfarm.v1." + method).orElseThrow();
        return least == Token.Role.VIEWER ? null : Token.Role.forNumber(least.getNumber() - 1);
    }

    private String header(String method, Attempt attempt) {
        return switch (attempt) {
            case NO_TOKEN -> null;
            case UNKNOWN -> "Bearer " + Tokens.mint().token();
            case MALFORMED -> "Bearer not-a-token";
            case REVOKED -> "Bearer " + revoked;
            case OTHER_NAMESPACE -> "Bearer " + adminB;
            case ROLE_TOO_WEAK -> "Bearer " + tokensA.get(weaker(method));
            case AGENT_ON_TENANT_API -> "Bearer " + agent;
            case TENANT_ON_AGENT_API -> "Bearer " + tokensA.get(Token.Role.ADMIN);
            case OPERATOR_ON_AGENT_API -> "Bearer " + AuthProfile.OPERATOR_TOKEN;
        };
    }

    /** Stubs that send one authorization header (or none). */
    private final class Channel {
        final String header;

        Channel(String header) {
            this.header = header;
        }

        <S extends AbstractStub<S>> S stub(S stub) {
            Metadata metadata = new Metadata();
            if (header != null) {
                metadata.put(AuthInterceptor.AUTHORIZATION, header);
            }
            return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata)).withDeadlineAfter(20, TimeUnit.SECONDS);
        }

        BuildServiceGrpc.BuildServiceBlockingStub builds() {
            return stub(BuildServiceGrpc.newBlockingStub(channel));
        }

        BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules() {
            return stub(BuildRuleServiceGrpc.newBlockingStub(channel));
        }

        TenancyServiceGrpc.TenancyServiceBlockingStub tenancy() {
            return stub(TenancyServiceGrpc.newBlockingStub(channel));
        }

        AgentServiceGrpc.AgentServiceBlockingStub agents() {
            return stub(AgentServiceGrpc.newBlockingStub(channel));
        }

        /** ShipLogs is a bidirectional stream: sends one batch and returns the first answer, or throws its error. */
        AppendLogsResponse shipLogs(AppendLogsRequest request) {
            CompletableFuture<AppendLogsResponse> first = new CompletableFuture<>();
            StreamObserver<AppendLogsRequest> batches = stub(AgentServiceGrpc.newStub(channel)).shipLogs(new StreamObserver<>() {
                @Override
                public void onNext(AppendLogsResponse response) {
                    first.complete(response);
                }

                @Override
                public void onError(Throwable t) {
                    first.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                    first.completeExceptionally(Status.INTERNAL.withDescription("closed without an answer").asRuntimeException());
                }
            });
            batches.onNext(request);
            try {
                return first.get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw e.getCause() instanceof StatusRuntimeException status ? status : new IllegalStateException(e);
            } catch (InterruptedException | TimeoutException e) {
                throw new IllegalStateException(e);
            } finally {
                try {
                    batches.onCompleted();
                } catch (RuntimeException ignored) {
                    // The call is already closed.
                }
            }
        }
    }

    /** One call per RPC, aimed at namespace A's build, repository, rule and tokens. */
    private Map<String, Function<Channel, Object>> calls() {
        Map<String, Function<Channel, Object>> calls = new LinkedHashMap<>();
        calls.put("BuildService/SubmitBuild", c -> c.builds().submitBuild(submit(nsA)));
        calls.put("BuildService/GetBuild", c -> c.builds().getBuild(GetBuildRequest.newBuilder().setName(buildA).build()));
        calls.put("BuildService/ListBuilds", c -> c.builds().listBuilds(ListBuildsRequest.getDefaultInstance()));
        calls.put("BuildService/CancelBuild", c -> c.builds().cancelBuild(CancelBuildRequest.newBuilder().setName(buildA).build()));
        calls.put("BuildService/RetryBuild", c -> c.builds().retryBuild(RetryBuildRequest.newBuilder().setName(buildA).build()));
        calls.put("BuildService/StreamBuildLogs", c -> c.builds().streamBuildLogs(
                StreamBuildLogsRequest.newBuilder().setName(buildA).build()).hasNext());
        calls.put("BuildService/WatchBuilds", c -> c.builds().watchBuilds(WatchBuildsRequest.newBuilder().setName(buildA).build()).hasNext());
        calls.put("BuildService/ListAgents", c -> c.builds().listAgents(ListAgentsRequest.getDefaultInstance()));
        calls.put("BuildService/UploadContext", c -> uploadWith(c.stub(BuildServiceGrpc.newStub(channel))));
        calls.put("BuildRuleService/CreateRepository", c -> c.rules().createRepository(createRepository(nsA, "new-" + suffix)));
        calls.put("BuildRuleService/GetRepository", c -> c.rules().getRepository(GetRepositoryRequest.newBuilder().setName(repositoryA).build()));
        calls.put("BuildRuleService/ListRepositories", c -> c.rules().listRepositories(ListRepositoriesRequest.getDefaultInstance()));
        calls.put("BuildRuleService/UpdateRepository", c -> c.rules().updateRepository(UpdateRepositoryRequest.newBuilder()
                .setRepository(Repository.newBuilder().setName(repositoryA).setAutoBuild(false))
                .setUpdateMask(FieldMask.newBuilder().addPaths("auto_build")).build()));
        calls.put("BuildRuleService/DeleteRepository", c -> c.rules().deleteRepository(DeleteRepositoryRequest.newBuilder()
                .setName(repositoryA).setForce(true).build()));
        calls.put("BuildRuleService/CreateBuildRule", c -> c.rules().createBuildRule(CreateBuildRuleRequest.newBuilder()
                .setParent(repositoryA).setRuleId("other").setRule(rule()).build()));
        calls.put("BuildRuleService/GetBuildRule", c -> c.rules().getBuildRule(GetBuildRuleRequest.newBuilder().setName(ruleA).build()));
        calls.put("BuildRuleService/ListBuildRules", c -> c.rules().listBuildRules(ListBuildRulesRequest.newBuilder().setParent(repositoryA).build()));
        calls.put("BuildRuleService/UpdateBuildRule", c -> c.rules().updateBuildRule(UpdateBuildRuleRequest.newBuilder()
                .setRule(rule().toBuilder().setName(ruleA).setNoCache(false)).setUpdateMask(FieldMask.newBuilder().addPaths("no_cache")).build()));
        calls.put("BuildRuleService/DeleteBuildRule", c -> c.rules().deleteBuildRule(DeleteBuildRuleRequest.newBuilder().setName(ruleA).build()));
        calls.put("BuildRuleService/RunBuildRule", c -> c.rules().runBuildRule(RunBuildRuleRequest.newBuilder().setName(ruleA).build()));
        calls.put("TenancyService/CreateNamespace", c -> c.tenancy().createNamespace(CreateNamespaceRequest.newBuilder()
                .setNamespaceId("auth-c-" + suffix).build()));
        calls.put("TenancyService/ListNamespaces", c -> c.tenancy().listNamespaces(ListNamespacesRequest.getDefaultInstance()));
        calls.put("TenancyService/CreateToken", c -> c.tenancy().createToken(CreateTokenRequest.newBuilder()
                .setToken(Token.newBuilder().setNamespace(nsA).setRole(Token.Role.VIEWER)).build()));
        calls.put("TenancyService/ListTokens", c -> c.tenancy().listTokens(ListTokensRequest.newBuilder().setNamespace(nsA).build()));
        calls.put("TenancyService/RevokeToken", c -> c.tenancy().revokeToken(RevokeTokenRequest.newBuilder()
                .setName(nameOf(tokensA.get(Token.Role.VIEWER))).build()));
        calls.put("TenancyService/SetRegistryCredential", c -> c.tenancy().setRegistryCredential(registryCredential(nsA)));
        calls.put("TenancyService/ListRegistryCredentials", c -> c.tenancy().listRegistryCredentials(
                ListRegistryCredentialsRequest.newBuilder().setNamespace(nsA).build()));
        calls.put("TenancyService/DeleteRegistryCredential", c -> c.tenancy().deleteRegistryCredential(
                DeleteRegistryCredentialRequest.newBuilder().setName(credentialA).build()));
        String job = UUID.randomUUID().toString();
        calls.put("AgentService/ClaimJob", c -> c.agents().claimJob(ClaimJobRequest.newBuilder().setJobId(job).setAgent("a").build()));
        calls.put("AgentService/Heartbeat", c -> c.agents().heartbeat(HeartbeatRequest.newBuilder().setJobId(job).setAttempt(1).build()));
        calls.put("AgentService/AppendLogs", c -> c.agents().appendLogs(AppendLogsRequest.newBuilder().setJobId(job).setAttempt(1).build()));
        calls.put("AgentService/ShipLogs", c -> c.shipLogs(AppendLogsRequest.newBuilder().setJobId(job).setAttempt(1).build()));
        calls.put("AgentService/FinishJob", c -> c.agents().finishJob(FinishJobRequest.newBuilder().setJobId(job).setAttempt(1).build()));
        calls.put("AgentService/ReportAgent", c -> c.agents().reportAgent(ReportAgentRequest.newBuilder().setAgent("a").build()));
        calls.put("AgentService/Attach", c -> c.agents().attach(AttachRequest.newBuilder().setAgent("a").build()).hasNext());
        calls.put("AgentService/FetchContext", c -> c.agents().fetchContext(FetchContextRequest.newBuilder().setJobId(job).setAttempt(1).build()).hasNext());
        return calls;
    }

    private SubmitBuildRequest submit(String namespace) {
        return SubmitBuildRequest.newBuilder().setSpec(BuildSpec.newBuilder().setContextDigest(contextDigest)
                .addPlatforms("linux/amd64").setRepository("127.0.0.1:5000/" + namespace + "/app").addTags("auth")).build();
    }

    private static CreateRepositoryRequest createRepository(String namespace, String id) {
        return CreateRepositoryRequest.newBuilder().setRepositoryId(id).setRepository(Repository.newBuilder()
                .setImage("127.0.0.1:5000/" + namespace + "/app")
                .setSource(SourceBinding.newBuilder().setUrl("https://git.example.invalid/app.git"))).build();
    }

    private static SetRegistryCredentialRequest registryCredential(String namespace) {
        return SetRegistryCredentialRequest.newBuilder().setNamespace(namespace).setCredential(RegistryCredential.newBuilder()
                .setRegistry("registry.example.com").setUsername("robot").setPassword("auth-test-password")).build();
    }

    private static BuildRule rule() {
        return BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH).setRefPattern("main")
                .addTags(TagConfig.newBuilder().setTemplate("latest")).addPlatforms("linux/amd64").setNoCache(true).build();
    }

    private String token(String creator, Token.Builder token) {
        return with(TenancyServiceGrpc.newBlockingStub(channel), creator)
                .createToken(CreateTokenRequest.newBuilder().setToken(token).build()).getSecret();
    }

    private static String nameOf(String token) {
        return "tokens/" + token.substring(3, 19);
    }

    private static <S extends AbstractStub<S>> S with(S stub, String token) {
        Metadata metadata = new Metadata();
        metadata.put(AuthInterceptor.AUTHORIZATION, "Bearer " + token);
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(metadata)).withDeadlineAfter(20, TimeUnit.SECONDS);
    }

    private Context upload(String token) {
        return uploadWith(with(BuildServiceGrpc.newStub(channel), token));
    }

    private static Context uploadWith(BuildServiceGrpc.BuildServiceStub stub) {
        CompletableFuture<Context> done = new CompletableFuture<>();
        StreamObserver<ContextChunk> out = stub.uploadContext(new StreamObserver<>() {
            @Override
            public void onNext(Context value) {
                done.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        out.onNext(ContextChunk.newBuilder().setData(ByteString.copyFrom(tar("FROM scratch\n# auth " + UUID.randomUUID()))).build());
        out.onCompleted();
        try {
            return done.get(20, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (RuntimeException) e.getCause();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] tar(String dockerfile) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            byte[] content = dockerfile.getBytes(StandardCharsets.UTF_8);
            TarArchiveEntry entry = new TarArchiveEntry("Dockerfile", true);
            entry.setSize(content.length);
            tar.putArchiveEntry(entry);
            tar.write(content);
            tar.closeArchiveEntry();
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    private static Status.Code code(Runnable call) {
        try {
            call.run();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    private static Status.Code code(java.util.function.Supplier<?> call) {
        return code((Runnable) call::get);
    }

    private Map<String, Long> rowCounts() throws SQLException {
        Map<String, Long> counts = new TreeMap<>();
        try (Connection c = db.getConnection()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = c.createStatement().executeQuery(
                    "select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'")) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            for (String table : tables) {
                try (ResultSet rs = c.createStatement().executeQuery("select count(*) from \"" + table + "\"")) {
                    rs.next();
                    counts.put(table, rs.getLong(1));
                }
            }
        }
        return counts;
    }
}
