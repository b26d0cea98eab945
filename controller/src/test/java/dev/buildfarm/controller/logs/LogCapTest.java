package dev.buildfarm.controller.logs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.agent.AgentJobs;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildStore;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** The per-build log cap on the real database: the log ends with the marker, later lines are dropped. */
@QuarkusTest
@TestProfile(LogCapTest.SmallCap.class)
class LogCapTest {

    public static class SmallCap implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("buildfarm.logs.max-bytes-per-build", "100");
        }
    }

    @Inject
    AgentJobs jobs;

    @Inject
    BuildStore store;

    @Inject
    LogStore logs;

    private static List<LogLine> lines(long from, long to) {
        // With its newline "line 1" takes 7 bytes and "line 10" 8: lines 1–13 take 95, line 14 passes 100.
        return LongStream.rangeClosed(from, to)
                .mapToObj(i -> LogLine.newBuilder().setSequence(i).setText("line " + i).build())
                .toList();
    }

    @Test
    void logEndsWithTheMarkerOnceTheCapIsReached() {
        BuildEntity build = store.create("", BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("d".repeat(40)))
                .addPlatforms("linux/amd64").setRepository("127.0.0.1:5000/logs/cap").addTags("latest")
                .setDockerfileName("Dockerfile").build(), "d".repeat(40), Trigger.newBuilder().setKind(Trigger.Kind.API).build());
        UUID job = build.platformBuilds.get(0).id;
        int attempt = jobs.claim(job.toString(), "agent", false).attempt();

        jobs.appendLogs(job.toString(), attempt, lines(1, 10));
        jobs.appendLogs(job.toString(), attempt, lines(11, 30));
        jobs.appendLogs(job.toString(), attempt, lines(31, 40));

        List<BuildLogLine> stored = QuarkusTransaction.requiringNew().call(() -> logs.read(job, "linux/amd64", 0, 1000));
        assertThat(stored).hasSize(14);
        assertThat(stored.subList(0, 13)).extracting(BuildLogLine::getText)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 13).mapToObj(i -> "line " + i).toList());
        assertThat(stored.get(13).getText()).isEqualTo(String.format(LiveLogs.TRUNCATED, 100));
    }
}
