package dev.buildfarm.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class DockerConfigTest {

    private static DockerConfig parse(String json) {
        return DockerConfig.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void readsAuthAndUsernamePasswordEntriesByHost() {
        String auth = Base64.getEncoder().encodeToString("robot:pa:ss".getBytes(StandardCharsets.UTF_8));
        DockerConfig config = parse("""
                {"auths": {
                  "https://Registry.Example.com/v1/": {"auth": "%s"},
                  "127.0.0.1:5002": {"username": "ci", "password": "s3cret"},
                  "https://index.docker.io/v1/": {"auth": "%s"},
                  "helper.example.com": {}
                }, "credsStore": "desktop"}
                """.formatted(auth, auth));
        assertThat(config.forRegistry("registry.example.com")).get()
                .satisfies(l -> assertThat(l.username()).isEqualTo("robot"))
                .satisfies(l -> assertThat(l.password()).isEqualTo("pa:ss"));
        assertThat(config.forRegistry("127.0.0.1:5002").orElseThrow().password()).isEqualTo("s3cret");
        assertThat(config.forRegistry("docker.io")).isPresent();
        assertThat(config.forRegistry("127.0.0.1:5000")).isEmpty();
        assertThat(config.forRegistry("helper.example.com")).as("no secret in the file").isEmpty();
        assertThat(config.forRegistry("registry.example.com").orElseThrow().toString()).doesNotContain("pa:ss");
    }

    @Test
    void errorsNameTheEntryNotTheSecret() {
        String noColon = Base64.getEncoder().encodeToString("just-a-secret".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> parse("{\"auths\": {\"r.example.com\": {\"auth\": \"" + noColon + "\"}}}"))
                .hasMessageContaining("auths[\"r.example.com\"].auth").hasMessageNotContaining(noColon)
                .hasMessageNotContaining("just-a-secret");
        assertThatThrownBy(() -> parse("{\"auths\": {\"r.example.com\": {\"auth\": \"%%%\"}}}"))
                .hasMessageContaining("not base64");
        assertThatThrownBy(() -> parse("{\"auths\": {\"password\": \"hunter2\"")).hasMessageNotContaining("hunter2");
    }
}
