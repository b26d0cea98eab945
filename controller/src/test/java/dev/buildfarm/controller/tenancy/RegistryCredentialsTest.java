package dev.buildfarm.controller.tenancy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.BadRequest;
import dev.buildfarm.api.v1.CreateNamespaceRequest;
import dev.buildfarm.api.v1.DeleteRegistryCredentialRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsRequest;
import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.api.v1.RegistryCredential;
import dev.buildfarm.api.v1.SetRegistryCredentialRequest;
import dev.buildfarm.api.v1.TenancyServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Registry credentials through the API (tokens off: the caller acts everywhere) and as a build finds its own. */
@QuarkusTest
class RegistryCredentialsTest {

    private final int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
    private final ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    private final TenancyServiceGrpc.TenancyServiceBlockingStub tenancy = TenancyServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS);
    private final String namespace = "regcred-" + UUID.randomUUID().toString().substring(0, 8);
    private final String password = "canary-" + UUID.randomUUID();

    @Inject
    RegistryCredentials credentials;

    @Inject
    DataSource db;

    @AfterEach
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private RegistryCredential set(String registry, String prefix, String username, String secret) {
        return tenancy.setRegistryCredential(SetRegistryCredentialRequest.newBuilder().setNamespace(namespace)
                .setCredential(RegistryCredential.newBuilder().setRegistry(registry).setRepositoryPrefix(prefix)
                        .setUsername(username).setPassword(secret)).build());
    }

    @Test
    void theCredentialIsSealedNeverAnsweredAndFoundByTheLongestPrefixOfItsNamespace() throws SQLException {
        tenancy.createNamespace(CreateNamespaceRequest.newBuilder().setNamespaceId(namespace).build());
        RegistryCredential whole = set("Registry.Example.com:5002", "", "robot", password);
        RegistryCredential team = set("registry.example.com:5002", "team/app", "team-robot", password + "-team");

        assertThat(whole.getName()).startsWith("namespaces/" + namespace + "/registryCredentials/");
        assertThat(whole.getRegistry()).as("hosts are kept lowercase").isEqualTo("registry.example.com:5002");
        assertThat(whole.getPassword()).isEmpty();
        List<RegistryCredential> listed = tenancy.listRegistryCredentials(ListRegistryCredentialsRequest.newBuilder()
                .setNamespace(namespace).build()).getCredentialsList();
        assertThat(listed).extracting(RegistryCredential::getUsername).containsExactly("robot", "team-robot");
        assertThat(listed.toString()).doesNotContain(password);
        try (Connection c = db.getConnection();
             PreparedStatement row = c.prepareStatement("select r::text from registry_credential r where namespace = ?")) {
            row.setString(1, namespace);
            try (ResultSet rs = row.executeQuery()) {
                int rows = 0;
                while (rs.next()) {
                    rows++;
                    assertThat(rs.getString(1)).contains("v1:").doesNotContain(password);
                }
                assertThat(rows).isEqualTo(2);
            }
        }

        String host = "registry.example.com:5002";
        assertThat(credentials.forRepository(namespace, host + "/" + namespace + "/team/app")).map(RegistryAuth::getUsername)
                .contains("team-robot");
        assertThat(credentials.forRepository(namespace, host + "/" + namespace + "/team/app/sub").map(RegistryAuth::getPassword))
                .contains(password + "-team");
        assertThat(credentials.forRepository(namespace, host + "/" + namespace + "/team/apple")).as("whole components only")
                .map(RegistryAuth::getUsername).contains("robot");
        assertThat(credentials.forRepository(namespace, "REGISTRY.example.com:5002/" + namespace + "/x").map(RegistryAuth::getRegistry))
                .contains(host);
        assertThat(credentials.forRepository(namespace, "other.example.com/" + namespace + "/x")).isEmpty();
        assertThat(credentials.forRepository("someone-else", host + "/someone-else/x")).isEmpty();

        // Setting the same registry and prefix again replaces it, under the same name.
        RegistryCredential replaced = set(host, "", "robot-2", password + "-2");
        assertThat(replaced.getName()).isEqualTo(whole.getName());
        assertThat(credentials.forRepository(namespace, host + "/" + namespace + "/x")).map(RegistryAuth::getUsername).contains("robot-2");

        tenancy.deleteRegistryCredential(DeleteRegistryCredentialRequest.newBuilder().setName(team.getName()).build());
        assertThat(credentials.forRepository(namespace, host + "/" + namespace + "/team/app")).map(RegistryAuth::getUsername)
                .contains("robot-2");
        assertThatThrownBy(() -> tenancy.deleteRegistryCredential(DeleteRegistryCredentialRequest.newBuilder()
                .setName(team.getName()).build())).hasMessageContaining("NOT_FOUND");
    }

    @Test
    void badInputIsRefusedNamingTheFieldAndNothingIsStored() throws SQLException {
        tenancy.createNamespace(CreateNamespaceRequest.newBuilder().setNamespaceId(namespace).build());
        record Bad(String registry, String prefix, String username, String secret, String field, String rule) {
        }
        List<Bad> rows = List.of(
                new Bad("", "", "u", "p", "credential.registry", "is required"),
                new Bad("https://registry.example.com", "", "u", "p", "credential.registry", "not a registry host"),
                new Bad("registry.example.com/path", "", "u", "p", "credential.registry", "not a registry host"),
                new Bad("registry.example.com", "Team/App", "u", "p", "credential.repository_prefix", "path components"),
                new Bad("registry.example.com", "team//app", "u", "p", "credential.repository_prefix", "path components"),
                new Bad("registry.example.com", "", " ", "p", "credential.username", "is required"),
                new Bad("registry.example.com", "", "a:b", "p", "credential.username", "must not contain ':'"),
                new Bad("registry.example.com", "", "u", "", "credential.password", "is required"),
                new Bad("registry.example.com", "", "u", "x".repeat(RegistryCredentials.MAX_PASSWORD_BYTES + 1),
                        "credential.password", "at most 16384 bytes"),
                new Bad("registry.example.com", "", "u", password + "\nmore", "credential.password", "line breaks"));
        for (Bad bad : rows) {
            StatusRuntimeException e = catchStatus(() -> set(bad.registry(), bad.prefix(), bad.username(), bad.secret()));
            assertThat(e.getStatus().getCode()).as(bad.toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).as(bad.field()).contains(bad.field()).contains(bad.rule())
                    .doesNotContain(password);
            BadRequest details = StatusProto.fromThrowable(e).getDetailsList().stream().filter(d -> d.is(BadRequest.class))
                    .map(d -> unpack(d)).findFirst().orElseThrow();
            assertThat(details.getFieldViolationsList()).extracting(BadRequest.FieldViolation::getField).contains(bad.field());
        }
        assertThat(catchStatus(() -> tenancy.setRegistryCredential(SetRegistryCredentialRequest.newBuilder()
                .setNamespace("no-such-" + namespace).setCredential(RegistryCredential.newBuilder()
                        .setRegistry("registry.example.com").setUsername("u").setPassword("p")).build())).getStatus().getCode())
                .isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(catchStatus(() -> tenancy.deleteRegistryCredential(DeleteRegistryCredentialRequest.newBuilder()
                .setName("registryCredentials/x").build())).getStatus().getDescription()).contains("name");
        try (Connection c = db.getConnection();
             PreparedStatement count = c.prepareStatement("select count(*) from registry_credential where namespace = ?")) {
            count.setString(1, namespace);
            try (ResultSet rs = count.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getLong(1)).isZero();
            }
        }
        assertThat(credentials.forRepository(namespace, "registry.example.com/" + namespace + "/app")).isEqualTo(Optional.empty());
    }

    private static BadRequest unpack(com.google.protobuf.Any any) {
        try {
            return any.unpack(BadRequest.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    private static StatusRuntimeException catchStatus(Runnable call) {
        try {
            call.run();
        } catch (StatusRuntimeException e) {
            return e;
        }
        throw new AssertionError("the call succeeded");
    }
}
