package dev.buildfarm.controller.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.Code;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Lease expiry on the real database, with time passed in rather than slept: a lost agent's job is
 * queued again as a new attempt, the old attempt's reports are refused, and after the last attempt
 * the platform and the build fail with AGENT_LOST.
 */
@QuarkusTest
class LeaseExpiryTest {

    @Inject
    AgentJobs jobs;

    @Inject
    BuildStore store;

    private UUID newJob() {
        BuildSpec spec = BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("a".repeat(40)))
                .addPlatforms("linux/arm64")
                .setRepository("127.0.0.1:5000/lease/test")
                .addTags("latest")
                .setDockerfileName("Dockerfile")
                .build();
        BuildEntity build = store.create("", spec, "a".repeat(40), Trigger.newBuilder().setKind(Trigger.Kind.API).build());
        return build.platformBuilds.get(0).id;
    }

    private PlatformBuildEntity job(UUID id) {
        return QuarkusTransaction.requiringNew().call(() -> {
            PlatformBuildEntity pb = PlatformBuildEntity.findById(id);
            pb.build.state.name();
            return pb;
        });
    }

    @Test
    void aLostAgentsJobIsRequeuedThenFailsAfterTheLastAttempt() {
        UUID id = newJob();
        Instant afterLease = Instant.now().plus(Duration.ofMinutes(5));

        for (int attempt = 1; attempt <= 3; attempt++) {
            AgentJobs.Claim claim = jobs.claim(id.toString(), "agent-" + attempt, false);
            assertThat(claim.granted()).isTrue();
            assertThat(claim.attempt()).isEqualTo(attempt);
            // The lease still holds now: nothing to expire.
            assertThat(jobs.expireLease(id, Instant.now())).isFalse();
            assertThat(jobs.expiredLeases(afterLease)).contains(id);
            assertThat(jobs.expireLease(id, afterLease)).isTrue();

            int stale = attempt;
            assertThatThrownBy(() -> jobs.heartbeat(id.toString(), stale))
                    .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo(Code.FAILED_PRECONDITION));
            assertThatThrownBy(() -> jobs.succeed(id.toString(), stale, "sha256:" + "b".repeat(64), ""))
                    .isInstanceOf(ApiError.class);
            if (attempt < 3) {
                assertThat(job(id).state).isEqualTo(BuildState.QUEUED);
            }
        }
        PlatformBuildEntity failed = job(id);
        assertThat(failed.state).isEqualTo(BuildState.FAILED);
        assertThat(failed.failureReason).startsWith("AGENT_LOST");
        assertThat(failed.build.state).isEqualTo(BuildState.FAILED);
        // A failed job is not claimed again.
        assertThat(jobs.claim(id.toString(), "late", false).granted()).isFalse();
    }

    @Test
    void heartbeatsKeepTheLease() {
        UUID id = newJob();
        AgentJobs.Claim claim = jobs.claim(id.toString(), "agent", true);
        Instant justBeforeExpiry = Instant.now().plus(claim.lease()).minusMillis(500);
        jobs.heartbeat(id.toString(), claim.attempt());
        assertThat(jobs.expireLease(id, justBeforeExpiry)).isFalse();
        assertThat(job(id).state).isEqualTo(BuildState.RUNNING);
    }

    @Test
    void theSameWinningReportAgainGetsTheSameAnswerAndALateLoserIsRefused() {
        UUID id = newJob();
        Instant afterLease = Instant.now().plus(Duration.ofMinutes(5));
        AgentJobs.Claim first = jobs.claim(id.toString(), "stopped-agent", false);
        assertThat(jobs.expireLease(id, afterLease)).isTrue();
        AgentJobs.Claim second = jobs.claim(id.toString(), "other-agent", false);
        assertThat(second.attempt()).isEqualTo(first.attempt() + 1);

        String digest = "sha256:" + "c".repeat(64);
        AgentJobs.Finished won = jobs.succeed(id.toString(), second.attempt(), digest, "");
        assertThat(won.readyToPublish()).isTrue();
        // Its answer was lost and the agent sends it again: the same state, no second publication.
        AgentJobs.Finished again = jobs.succeed(id.toString(), second.attempt(), digest, "");
        assertThat(again.buildState()).isEqualTo(won.buildState());
        assertThat(again.readyToPublish()).isFalse();
        // The first attempt's agent wakes up and reports late, with another digest: refused, nothing moves.
        assertThatThrownBy(() -> jobs.succeed(id.toString(), first.attempt(), "sha256:" + "d".repeat(64), ""))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.code()).isEqualTo(Code.FAILED_PRECONDITION));
        // A different digest under the winning attempt is no repeat either.
        assertThatThrownBy(() -> jobs.succeed(id.toString(), second.attempt(), "sha256:" + "e".repeat(64), ""))
                .isInstanceOf(ApiError.class);
        PlatformBuildEntity pb = job(id);
        assertThat(pb.digest).isEqualTo(digest);
        assertThat(pb.attempt).isEqualTo(second.attempt());
    }
}
