package dev.buildfarm.controller.agent;

import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.quarkus.hibernate.orm.panache.Panache;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The controller's side of the agent protocol: claims grant a lease for one attempt, and every
 * later report must name the attempt that still holds it. Each call locks the build row, so the
 * last platform to finish is seen by exactly one transaction.
 */
@ApplicationScoped
public class AgentJobs {

    public record Claim(boolean granted, int attempt, String reason, Duration lease) {
    }

    /** What a finish did: the build's state after it, and whether the index must now be published. */
    public record Finished(BuildState buildState, boolean readyToPublish, UUID buildId) {
    }

    @Inject
    Clock clock;

    @ConfigProperty(name = "buildfarm.lease-timeout")
    Duration leaseTimeout;

    @Transactional
    public Claim claim(String jobId, String agent, boolean emulated) {
        PlatformBuildEntity pb = lockedJob(jobId);
        if (pb.state != BuildState.QUEUED || pb.build.state.isFinal()) {
            return new Claim(false, pb.attempt, "the job is " + pb.state + " and the build " + pb.build.state, Duration.ZERO);
        }
        Instant now = clock.instant();
        pb.attempt += 1;
        pb.agent = agent;
        pb.emulated = emulated;
        pb.leaseExpireTime = now.plus(leaseTimeout);
        pb.moveTo(BuildState.RUNNING, now);
        if (pb.build.state == BuildState.QUEUED) {
            pb.build.moveTo(BuildState.RUNNING, now);
        }
        return new Claim(true, pb.attempt, "", leaseTimeout);
    }

    /** Extends the lease; answers whether the build was cancelled meanwhile. */
    @Transactional
    public boolean heartbeat(String jobId, int attempt) {
        PlatformBuildEntity pb = currentAttempt(jobId, attempt);
        pb.leaseExpireTime = clock.instant().plus(leaseTimeout);
        return pb.build.state == BuildState.CANCELLED;
    }

    @Transactional
    public boolean appendLogs(String jobId, int attempt, List<LogLine> lines) {
        PlatformBuildEntity pb = currentAttempt(jobId, attempt);
        var session = Panache.getEntityManager();
        for (LogLine line : lines) {
            // A line resent after a reconnect is stored once.
            session.createNativeQuery("insert into log_line (platform_build_id, attempt, sequence, text) values (?1, ?2, ?3, ?4) on conflict do nothing")
                    .setParameter(1, pb.id)
                    .setParameter(2, attempt)
                    .setParameter(3, line.getSequence())
                    .setParameter(4, line.getText().replace("\0", ""))
                    .executeUpdate();
        }
        pb.leaseExpireTime = clock.instant().plus(leaseTimeout);
        return pb.build.state == BuildState.CANCELLED;
    }

    @Transactional
    public Finished succeed(String jobId, int attempt, String digest, String pushedRepository) {
        PlatformBuildEntity pb = currentAttempt(jobId, attempt);
        Instant now = clock.instant();
        pb.digest = digest;
        pb.pushedRepository = pushedRepository.isEmpty() ? null : pushedRepository;
        pb.moveTo(BuildState.SUCCEEDED, now);
        BuildEntity build = pb.build;
        boolean allSucceeded = build.platformBuilds.stream().allMatch(p -> p.state == BuildState.SUCCEEDED);
        boolean ready = allSucceeded && build.state == BuildState.RUNNING;
        if (ready) {
            build.moveTo(BuildState.PUBLISHING, now);
        }
        return new Finished(build.state, ready, build.id);
    }

    @Transactional
    public Finished fail(String jobId, int attempt, String reason) {
        PlatformBuildEntity pb = currentAttempt(jobId, attempt);
        Instant now = clock.instant();
        pb.failureReason = reason;
        pb.moveTo(BuildState.FAILED, now);
        BuildEntity build = pb.build;
        // Default policy: one failed platform fails the build, and nothing is published.
        if (!build.state.isFinal()) {
            build.failureReason = pb.platform + ": " + reason;
            build.moveTo(BuildState.FAILED, now);
        }
        return new Finished(build.state, false, build.id);
    }

    private PlatformBuildEntity lockedJob(String jobId) {
        UUID id;
        try {
            id = UUID.fromString(jobId);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("job_id", "'" + jobId + "' is not a job id");
        }
        PlatformBuildEntity pb = PlatformBuildEntity.findById(id);
        if (pb == null) {
            throw ApiError.notFound("job " + jobId + " does not exist");
        }
        BuildEntity.getEntityManager().lock(pb.build, LockModeType.PESSIMISTIC_WRITE);
        BuildEntity.getEntityManager().refresh(pb);
        return pb;
    }

    private PlatformBuildEntity currentAttempt(String jobId, int attempt) {
        PlatformBuildEntity pb = lockedJob(jobId);
        if (pb.attempt != attempt || pb.state != BuildState.RUNNING) {
            throw ApiError.failedPrecondition("STALE_ATTEMPT", "attempt " + attempt + " of job " + jobId
                    + " no longer holds the lease (current attempt " + pb.attempt + ", state " + pb.state + ")");
        }
        return pb;
    }
}
