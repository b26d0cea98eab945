package dev.buildfarm.helm;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** values.schema.json (and the templates' own checks) refuse bad values with a message naming the field. */
class ChartSchemaTest {

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("agents.pools.linux-arm-v7.replicas", -1, "/agents/pools/linux-arm-v7/replicas"),
                Arguments.of("agents.docker.mode", "podman", "/agents/docker/mode"),
                Arguments.of("replicaCount", 2, "'replicaCount' not allowed"),
                Arguments.of("agents.pools.linux-riscv64.enabled", true, "'linux-riscv64' not allowed"),
                Arguments.of("agents.pools.linux-arm64.replica", 2, "'replica' not allowed"),
                Arguments.of("agents.pools.linux-arm64.enabled", "yes", "/agents/pools/linux-arm64/enabled"),
                Arguments.of("agents.emulation.platforms[0]", "windows/amd64", "/agents/emulation/platforms/0"),
                Arguments.of("agents.autoscaling.minReplicas", -2, "/agents/autoscaling/minReplicas"),
                Arguments.of("kafka.jobPartitions", 0, "/kafka/jobPartitions"),
                Arguments.of("postgresql.url", "postgres://db:5432/x", "/postgresql/url"),
                Arguments.of("controller.leaseTimeout", "thirty seconds", "/controller/leaseTimeout"),
                // Not expressible in the schema without an unreadable message: the template says it.
                Arguments.of("postgresql.existingSecret", "", "postgresql.password is required"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @MethodSource("badValues")
    void templateRefusesBadValueNamingTheField(String key, Object value, String expected) {
        assertThatThrownBy(() -> Chart.values().set(key, value).render())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(expected);
    }
}
