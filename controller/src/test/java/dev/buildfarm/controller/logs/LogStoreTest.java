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
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/** Log storage on the real database: a batch resent after a cut connection adds nothing, offsets run across attempts. */
@QuarkusTest
class LogStoreTest {

    @Inject
    AgentJobs jobs;

    @Inject
    BuildStore store;

    @Inject
    LogStore logs;

    private static List<LogLine> lines(long from, long to) {
        return LongStream.rangeClosed(from, to)
                .mapToObj(i -> LogLine.newBuilder().setSequence(i).setText("line " + i).setStage("Step 1/1 : RUN x").build())
                .toList();
    }

    private List<BuildLogLine> read(UUID job) {
        return QuarkusTransaction.requiringNew().call(() -> logs.read(job, "linux/amd64", 0, 1000));
    }

    @Test
    void resentLinesAreStoredOnceAndOffsetsRunAcrossAttempts() {
        BuildEntity build = store.create("", BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("c".repeat(40)))
                .addPlatforms("linux/amd64").setRepository("127.0.0.1:5000/logs/test").addTags("latest")
                .setDockerfileName("Dockerfile").build(), "c".repeat(40), Trigger.newBuilder().setKind(Trigger.Kind.API).build());
        UUID job = build.platformBuilds.get(0).id;

        int first = jobs.claim(job.toString(), "agent", false).attempt();
        jobs.appendLogs(job.toString(), first, lines(1, 10));
        // The agent did not hear the answer and sends an overlapping batch again.
        jobs.appendLogs(job.toString(), first, lines(5, 15));
        assertThat(read(job)).extracting(BuildLogLine::getText)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 15).mapToObj(i -> "line " + i).toList());

        // The agent is lost; attempt 2 numbers its lines from 1 again, and the log goes on after attempt 1's.
        assertThat(jobs.expireLease(job, Instant.now().plusSeconds(600))).isTrue();
        int second = jobs.claim(job.toString(), "agent-2", false).attempt();
        jobs.appendLogs(job.toString(), second, lines(1, 3));
        List<BuildLogLine> all = read(job);
        assertThat(all).extracting(BuildLogLine::getOffset)
                .containsExactlyElementsOf(LongStream.range(0, 18).boxed().toList());
        assertThat(all.subList(15, 18)).allSatisfy(l -> assertThat(l.getAttempt()).isEqualTo(second));
        assertThat(all.get(0).getStage()).isEqualTo("Step 1/1 : RUN x");

        // A reader resuming in the middle of a stored batch gets the rest of it, then the next ones.
        List<BuildLogLine> tail = QuarkusTransaction.requiringNew().call(() -> logs.read(job, "linux/amd64", 12, 1000));
        assertThat(tail).extracting(BuildLogLine::getOffset).containsExactly(12L, 13L, 14L, 15L, 16L, 17L);
        assertThat(tail).extracting(BuildLogLine::getText)
                .containsExactly("line 13", "line 14", "line 15", "line 1", "line 2", "line 3");
        // A limit cuts inside a batch; the next read goes on from there.
        assertThat(QuarkusTransaction.requiringNew().call(() -> logs.read(job, "linux/amd64", 3, 4)))
                .extracting(BuildLogLine::getOffset).containsExactly(3L, 4L, 5L, 6L);
        assertThat(QuarkusTransaction.requiringNew().call(() -> logs.read(job, "linux/amd64", 18, 1000))).isEmpty();
    }
}
