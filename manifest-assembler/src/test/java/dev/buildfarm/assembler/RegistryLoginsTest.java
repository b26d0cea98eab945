package dev.buildfarm.assembler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.assembler.registry.RegistryClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RegistryLoginsTest {

    @Test
    void theRequestsCredentialWinsForItsRegistryAndTheDockerConfigServesTheRest(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("config.json");
        Files.writeString(config, """
                {"auths": {"127.0.0.1:5002": {"auth": "b3BlcmF0b3I6b3AtcGFzcw=="},
                           "registry.example.com": {"username": "ops", "password": "ops-pass"}}}
                """);
        RegistryLogins logins = new RegistryLogins(Optional.of(config));
        Function<String, Optional<RegistryClient.Login>> handed = logins.forPublication(Optional.of(RegistryAuth.newBuilder()
                .setRegistry("127.0.0.1:5002").setUsername("team-robot").setPassword("team-pass").build()));
        Function<String, Optional<RegistryClient.Login>> operatorOnly = logins.forPublication(Optional.empty());

        assertThat(handed.apply("127.0.0.1:5002")).contains(new RegistryClient.Login("team-robot", "team-pass"));
        assertThat(handed.apply("REGISTRY.example.com")).contains(new RegistryClient.Login("ops", "ops-pass"));
        assertThat(operatorOnly.apply("127.0.0.1:5002")).contains(new RegistryClient.Login("operator", "op-pass"));
        assertThat(operatorOnly.apply("127.0.0.1:5000")).isEmpty();
        assertThat(new RegistryClient.Login("u", "op-pass").toString()).doesNotContain("op-pass");
    }

    @Test
    void aConfiguredFileThatCannotBeReadFailsAtStart(@TempDir Path dir) {
        assertThatThrownBy(() -> new RegistryLogins(Optional.of(dir.resolve("missing.json"))))
                .hasMessageContaining("missing.json");
        assertThat(RegistryLogins.none().forPublication(Optional.empty()).apply("127.0.0.1:5002")).isEmpty();
    }
}
