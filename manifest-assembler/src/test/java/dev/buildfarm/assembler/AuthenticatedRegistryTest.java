package dev.buildfarm.assembler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.IndexChild;
import dev.buildfarm.api.v1.PublishIndexRequest;
import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.assembler.registry.MediaTypes;
import dev.buildfarm.assembler.registry.RegistryClient;
import dev.buildfarm.assembler.registry.RegistryException;
import dev.buildfarm.assembler.registry.Repository;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publication to the stack's registry that wants an htpasswd login (127.0.0.1:5002, dev/stack.sh):
 * with the login from a Docker config.json, or handed in the request; without one, refused saying so.
 */
class AuthenticatedRegistryTest {

    private static final String HOST = System.getenv().getOrDefault("BUILDFARM_TEST_AUTH_REGISTRY", "127.0.0.1:5002");
    private static final RegistryClient ANONYMOUS = new RegistryClient(new RegistryClient.Settings(Set.of(HOST), 3,
            Duration.ofMillis(50), Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofSeconds(30)));

    private String user;
    private String password;

    @BeforeEach
    void stackLogin() throws IOException {
        Path secrets = Path.of(System.getenv().getOrDefault("BUILDFARM_STACK_DIR", "../.stack"), "secrets");
        Path userFile = secrets.resolve("registry-5002.user");
        if (!Files.exists(userFile)) {
            throw new IllegalStateException("no login for the authenticated registry at " + userFile
                    + ": dev/stack.sh up starts it and makes one (or set BUILDFARM_STACK_DIR)");
        }
        user = Files.readString(userFile).strip();
        password = Files.readString(secrets.resolve("registry-5002.password")).strip();
    }

    private PublishIndexRequest.Builder request(Repository staging, Repository target, RegistryClient pusher) {
        String amd64 = TestRegistry.pushImage(pusher, staging, "amd64", "", MediaTypes.OCI_MANIFEST);
        String arm64 = TestRegistry.pushImage(pusher, staging, "arm64", "", MediaTypes.OCI_MANIFEST);
        return PublishIndexRequest.newBuilder().setRepository(target.toString()).addTags("auth")
                .addChildren(IndexChild.newBuilder().setPlatform("linux/amd64").setDigest(amd64).setSourceRepository(staging.toString()))
                .addChildren(IndexChild.newBuilder().setPlatform("linux/arm64").setDigest(arm64).setSourceRepository(staging.toString()));
    }

    @Test
    void publishesWithTheDockerConfigsLoginAndCopiesChildrenAcrossRepositories(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        String auth = Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
        Files.writeString(config, "{\"auths\": {\"http://" + HOST + "\": {\"auth\": \"" + auth + "\"}}}");
        RegistryLogins logins = new RegistryLogins(Optional.of(config));
        RegistryClient pusher = ANONYMOUS.withLogins(logins.forPublication(Optional.empty()));
        String id = UUID.randomUUID().toString().replace("-", "");
        Repository staging = new Repository(HOST, "buildfarm-staging/assembler-test/r" + id);
        Repository target = new Repository(HOST, "assembler-test/r" + id);

        String digest = new IndexPublisher(ANONYMOUS, logins).publish(request(staging, target, pusher).build()).getIndexDigest();

        assertThat(pusher.headManifest(target, "auth", MediaTypes.INDEXES)).contains(digest);
        assertThatThrownBy(() -> ANONYMOUS.headManifest(target, "auth", MediaTypes.INDEXES))
                .isInstanceOf(RegistryException.class).hasMessageContaining("refused anonymous access");
    }

    @Test
    void theRequestsCredentialIsUsedAndAWrongOneIsRefusedWithoutShowingIt() {
        RegistryAuth handed = RegistryAuth.newBuilder().setRegistry(HOST).setUsername(user).setPassword(password).build();
        RegistryClient pusher = ANONYMOUS.withLogins(host -> Optional.of(new RegistryClient.Login(user, password)));
        String id = UUID.randomUUID().toString().replace("-", "");
        Repository staging = new Repository(HOST, "buildfarm-staging/assembler-test/r" + id);
        Repository target = new Repository(HOST, "assembler-test/r" + id);
        PublishIndexRequest.Builder request = request(staging, target, pusher);
        IndexPublisher publisher = new IndexPublisher(ANONYMOUS, RegistryLogins.none());

        String wrong = "wrong-" + UUID.randomUUID();
        assertThatThrownBy(() -> publisher.publish(request.clone()
                .setRegistryAuth(handed.toBuilder().setPassword(wrong)).build()))
                .isInstanceOf(RegistryException.class)
                .hasMessageContaining("registry " + HOST + " refused the login of user '" + user + "'")
                .hasMessageNotContaining(wrong);
        assertThatThrownBy(() -> publisher.publish(request.build())).hasMessageContaining("refused anonymous access");

        String digest = publisher.publish(request.setRegistryAuth(handed).build()).getIndexDigest();
        assertThat(pusher.headManifest(target, "auth", List.of(MediaTypes.OCI_INDEX))).contains(digest);
    }
}
