package dev.buildfarm.assembler.registry;

import dev.buildfarm.common.Platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Repository grammar, platform matching and index bytes: the rules that need no registry. */
class ValuesTest {
    @Test
    void repositoriesFollowTheDistributionGrammar() {
        assertThat(Repository.parse("127.0.0.1:5000/demo/hello")).isEqualTo(new Repository("127.0.0.1:5000", "demo/hello"));
        assertThat(Repository.parse("localhost/a__b/c.d-e")).isEqualTo(new Repository("localhost", "a__b/c.d-e"));
        assertThat(Repository.parse("registry.example.com/x/y/z").host()).isEqualTo("registry.example.com");
        for (String bad : List.of("", "hello", "library/hello", "127.0.0.1:5000/", "127.0.0.1:5000/A",
                "127.0.0.1:5000/a/", "127.0.0.1:5000/-a", "127.0.0.1:5000/a___b", "-host.com/a", "host.com:99999/a")) {
            assertThatThrownBy(() -> Repository.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void platformsMatchTheirConfigs() {
        assertThat(Platform.LINUX_ARM64.matchesConfig("linux", "arm64", "v8")).isTrue();
        assertThat(Platform.LINUX_ARM64.matchesConfig("linux", "arm64", null)).isTrue();
        assertThat(Platform.LINUX_ARM_V7.matchesConfig("linux", "arm", "v7")).isTrue();
        assertThat(Platform.LINUX_ARM_V7.matchesConfig("linux", "arm", "")).isFalse();
        assertThat(Platform.LINUX_ARM_V6.matchesConfig("linux", "arm", "v7")).isFalse();
        assertThat(Platform.LINUX_AMD64.matchesConfig("windows", "amd64", "")).isFalse();
    }

    @Test
    void indexBytesAreDeterministic() {
        var amd64 = new ImageIndex.Entry(Platform.LINUX_AMD64, MediaTypes.OCI_MANIFEST, "sha256:" + "a".repeat(64), 10);
        var armv7 = new ImageIndex.Entry(Platform.LINUX_ARM_V7, MediaTypes.DOCKER_MANIFEST, "sha256:" + "b".repeat(64), 20);

        byte[] one = ImageIndex.serialise(List.of(armv7, amd64), Map.of("z", "1", "a", "2"));
        byte[] two = ImageIndex.serialise(List.of(amd64, armv7), Map.of("a", "2", "z", "1"));

        assertThat(one).isEqualTo(two);
        assertThat(new String(one, StandardCharsets.UTF_8)).isEqualTo("{\"annotations\":{\"a\":\"2\",\"z\":\"1\"},"
                + "\"manifests\":[{\"digest\":\"sha256:" + "a".repeat(64) + "\",\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                + "\",\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"},\"size\":10},"
                + "{\"digest\":\"sha256:" + "b".repeat(64) + "\",\"mediaType\":\"" + MediaTypes.DOCKER_MANIFEST
                + "\",\"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"},\"size\":20}],"
                + "\"mediaType\":\"" + MediaTypes.OCI_INDEX + "\",\"schemaVersion\":2}");
    }
}
