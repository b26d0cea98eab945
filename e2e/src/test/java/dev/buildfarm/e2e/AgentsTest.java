package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.common.Platform;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** The farm's view of its agents: each platform the probe found, native or emulated. */
class AgentsTest {

    @Test
    void theLocalAgentServesFourPlatformsNativelyOrUnderQemu() {
        Platform host = Platform.fromMachine(System.getProperty("os.arch")).orElseThrow();
        List<Agent> live = Awaitility.await().atMost(Duration.ofSeconds(10)).until(
                () -> Farm.builds().listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList().stream()
                        .filter(a -> a.getState() != Agent.State.LOST).toList(),
                agents -> !agents.isEmpty());
        Agent agent = live.get(0);
        assertThat(agent.getName()).startsWith("agents/");
        assertThat(agent.getPlatformsList()).extracting(AgentPlatform::getPlatform)
                .containsExactlyInAnyOrder("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");
        for (AgentPlatform p : agent.getPlatformsList()) {
            assertThat(p.getEmulated()).as(p.getPlatform()).isEqualTo(!Platform.parse(p.getPlatform()).equals(host));
        }
    }
}
