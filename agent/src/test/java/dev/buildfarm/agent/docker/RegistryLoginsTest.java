package dev.buildfarm.agent.docker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.RegistryAuth;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryLoginsTest {

    private static final RegistryAuth HANDED = RegistryAuth.newBuilder().setRegistry("127.0.0.1:5002")
            .setUsername("team-robot").setPassword("team-pass").build();

    private static RegistryLogins with(Path config) {
        RegistryLogins logins = new RegistryLogins();
        logins.dockerConfig = Optional.ofNullable(config);
        return logins;
    }

    @Test
    void theClaimsCredentialWinsForItsRegistryAndTheDockerConfigServesTheRest(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        Files.writeString(config, """
                {"auths": {"127.0.0.1:5002": {"username": "operator", "password": "op-pass"},
                           "https://registry.example.com/v1/": {"username": "ops", "password": "ops-pass"}}}
                """);
        RegistryLogins logins = with(config);

        assertThat(logins.forRegistry("127.0.0.1:5002", Optional.of(HANDED))).get()
                .satisfies(l -> assertThat(l.username()).isEqualTo("team-robot"))
                .satisfies(l -> assertThat(l.source()).isEqualTo("the build's namespace"));
        assertThat(logins.forRegistry("127.0.0.1:5002", Optional.empty())).get()
                .satisfies(l -> assertThat(l.password()).isEqualTo("op-pass"));
        assertThat(logins.forRegistry("Registry.Example.com", Optional.of(HANDED))).get()
                .satisfies(l -> assertThat(l.username()).isEqualTo("ops"))
                .satisfies(l -> assertThat(l.authConfig().getRegistryAddress()).isEqualTo("registry.example.com"));
        assertThat(logins.forRegistry("127.0.0.1:5000", Optional.of(HANDED))).isEmpty();
        assertThat(logins.forRegistry("127.0.0.1:5002", Optional.of(HANDED)).orElseThrow().toString()).doesNotContain("team-pass");
    }

    @Test
    void withoutADockerConfigOnlyTheHandedCredentialCounts() {
        RegistryLogins logins = with(null);
        assertThat(logins.forRegistry("127.0.0.1:5002", Optional.of(HANDED))).isPresent();
        assertThat(logins.forRegistry("127.0.0.1:5002", Optional.empty())).isEmpty();
    }

    @Test
    void theRegistryOfAReferenceIsItsFirstComponentWhenThatNamesAHost() {
        assertThat(RegistryLogins.registryOf("127.0.0.1:5002/team/app:1")).isEqualTo("127.0.0.1:5002");
        assertThat(RegistryLogins.registryOf("registry.example.com/team/app@sha256:ab")).isEqualTo("registry.example.com");
        assertThat(RegistryLogins.registryOf("localhost/app")).isEqualTo("localhost");
        assertThat(RegistryLogins.registryOf("library/busybox")).isEqualTo("docker.io");
        assertThat(RegistryLogins.registryOf("busybox")).isEqualTo("docker.io");
    }

    @Test
    void theEnginesWordsForAMissingOrRefusedLoginAreRecognised() {
        assertThat(ImageBuilder.isAuthenticationError("no basic auth credentials")).isTrue();
        assertThat(ImageBuilder.isAuthenticationError("unauthorized: authentication required")).isTrue();
        assertThat(ImageBuilder.isAuthenticationError("denied: requested access to the resource is denied")).isTrue();
        assertThat(ImageBuilder.isAuthenticationError("blob upload unknown")).isFalse();
    }
}
