package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** An agent killed mid-build: its lease runs out, the job runs again as attempt 2, and the build still succeeds. */
class AgentLossTest {

    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    @Test
    void aKilledAgentsJobIsRerunAndTheBuildSucceeds() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile",
                "FROM 127.0.0.1:5000/library/busybox:latest\nRUN echo started && sleep 5 && echo finished\n"));
        String path = "e2e/agent-loss-" + UUID.randomUUID().toString().substring(0, 8);
        Build build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("agent-loss-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addPlatforms("linux/amd64")
                        .setRepository(Farm.REGISTRY + "/" + path)
                        .addTags("latest"))
                .build());
        Awaitility.await().atMost(Duration.ofMinutes(5)).until(() -> platform(build.getName()).getState() == Build.State.RUNNING);

        long pid = Long.parseLong(Files.readString(REPO.resolve(".stack/services/agent.pid")).trim());
        String agentName = "agents/" + platform(build.getName()).getAgent();
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        long killed = System.nanoTime();

        // The farm notices from the closed connection, well before the 10 s lease would run out: the
        // agent is LOST and its job is queued again as a new attempt.
        Awaitility.await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(100))
                .until(() -> agentState(agentName) == Agent.State.LOST);
        System.out.printf("agent kill to LOST: %.1f s%n", (System.nanoTime() - killed) / 1e9);
        Awaitility.await().atMost(Duration.ofSeconds(8)).pollInterval(Duration.ofMillis(100))
                .until(() -> platform(build.getName()).getState() == Build.State.QUEUED);
        System.out.printf("agent kill to job queued again: %.1f s%n", (System.nanoTime() - killed) / 1e9);
        restartAgent();
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> agentState(agentName) == Agent.State.IDLE || agentState(agentName) == Agent.State.BUSY);

        Build done = Farm.awaitFinal(build.getName(), Duration.ofMinutes(5));
        assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        PlatformBuild pb = done.getPlatformBuilds(0);
        assertThat(pb.getAttempt()).isEqualTo(2);
        assertThat(Registry.manifest(path, "latest").digest()).isEqualTo(done.getIndexDigest());
        System.out.printf("agent kill to build succeeded: %.1f s%n", (System.nanoTime() - killed) / 1e9);
    }

    private static Agent.State agentState(String name) {
        return Farm.builds().listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList().stream()
                .filter(a -> a.getName().equals(name)).map(Agent::getState).findFirst().orElse(Agent.State.STATE_UNSPECIFIED);
    }

    private static PlatformBuild platform(String name) {
        return Farm.builds().getBuild(GetBuildRequest.newBuilder().setName(name).build()).getPlatformBuilds(0);
    }

    private static void restartAgent() throws Exception {
        Process up = new ProcessBuilder("dev/services.sh", "up").directory(REPO.toFile()).inheritIO().start();
        assertThat(up.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(up.exitValue()).isZero();
    }
}
