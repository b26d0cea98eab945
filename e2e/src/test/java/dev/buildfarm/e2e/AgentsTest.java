package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.common.Platform;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
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

    /** dev/services.sh gives the agent two linux/amd64 slots: two builds of that platform run side by side. */
    @Test
    void twoSlotsRunTwoBuildsOfOnePlatformAtOnce() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", """
                FROM 127.0.0.1:5000/library/busybox:latest
                RUN echo slot && sleep 15
                """));
        List<String> names = List.of(submitAmd64(repo), submitAmd64(repo));
        // Both have started while neither has finished.
        Awaitility.await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200)).until(
                () -> names.stream().map(AgentsTest::amd64).allMatch(p -> p.hasStartTime() && !p.hasEndTime()));
        // The agent reports every 2 s: its view follows within a few seconds.
        AgentPlatform amd64 = Awaitility.await().atMost(Duration.ofSeconds(10)).until(
                () -> Farm.builds().listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList().stream()
                        .filter(a -> a.getState() != Agent.State.LOST).flatMap(a -> a.getPlatformsList().stream())
                        .filter(p -> p.getPlatform().equals("linux/amd64")).findFirst().orElseThrow(),
                p -> p.getRunning() == 2);
        assertThat(amd64.getSlots()).isEqualTo(2);
        assertThat(amd64.getBusy()).isTrue();
        for (String name : names) {
            assertThat(Farm.awaitFinal(name, Duration.ofMinutes(3)).getState()).as(name).isEqualTo(Build.State.SUCCEEDED);
        }
    }

    private static String submitAmd64(GitFixtures.Repo repo) {
        return Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("slots-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addPlatforms("linux/amd64")
                        .setRepository(Farm.REGISTRY + "/e2e/slots-" + UUID.randomUUID().toString().substring(0, 8))
                        .addTags("latest")
                        .setNoCache(true))
                .build()).getName();
    }

    private static dev.buildfarm.api.v1.PlatformBuild amd64(String name) {
        return Farm.builds().getBuild(GetBuildRequest.newBuilder().setName(name).build()).getPlatformBuilds(0);
    }
}
