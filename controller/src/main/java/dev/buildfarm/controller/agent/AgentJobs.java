package dev.buildfarm.controller.agent;

import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import dev.buildfarm.controller.events.BuildEvents;
import dev.buildfarm.controller.logs.LogStore;
import dev.buildfarm.controller.metrics.FarmMetrics;
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
 * last platform to finish is seen by exactly one transaction, and log offsets are assigned in order.
 */
@ApplicationScoped
public class AgentJobs {

    public record Claim(boolean granted, int attempt, String reason, Duration lease) {
    }

    /** What a finish did: the build's state after it, and whether the index must now be published. */
    public record Finished(BuildState buildState, boolean readyToPublish, UUID buildId) {
    }

    /** Answer to a heartbeat or a log batch: whether to stop, and which build's watchers to wake. */
    public record Report(boolean cancelRequested, UUID buildId) {
    }

    @Inject
    Clock clock;

    @Inject
    BuildEvents events;

    @Inject
    LogStore logs;

    @Inject
    BuildStore store;

    @Inject
    FarmMetrics metrics;

    @ConfigProperty(name = "buildfarm.lease-timeout")
    Duration leaseTimeout;

    /** Attempts a platform job gets before a lost agent fails it. */
    @ConfigProperty(name = "buildfarm.max-attempts")
    int maxAttempts;

    @Transactional
    public Claim claim(String jobId, String agent, boolean emulated) {
        PlatformBuildEntity pb = lockedJob(jobId);
        if (pb.state != BuildState.QUEUED || pb.build.state.isFinal()) {
            return new Claim(false, pb.attempt, "the job is " + pb.state + " and the build " + pb.build.state, Duration.ZERO);
        }
        Instant now = clock.instant();
        pb.attempt += 1;
        pb.logSequence = 0;
        pb.agent = agent;
        pb.emulated = emulated;
        pb.leaseExpireTime = now.plus(leaseTimeout);
        pb.moveTo(BuildState.RUNNING, now);
        metrics.claimed(pb, now);
        events.platformChanged(pb);
        if (pb.build.state == BuildState.QUEUED) {
            pb.build.moveTo(BuildState.RUNNING, now);
            events.buildChanged(pb.build);
        }
        return new Claim(true, pb.attempt, "", leaseTimeout);
    }

    /** Extends the lease; answers whether the build was cancelled meanwhile. */
    @Transactional
    public Report heartbeat(String jobId, int attempt) {
        PlatformBuildEntity pb = reportingAttempt(jobId, attempt);
        if (pb.state == BuildState.RUNNING) {
            pb.leaseExpireTime = clock.instant().plus(leaseTimeout);
        }
        return new Report(pb.state == BuildState.CANCELLED, pb.build.id);
    }

    @Transactional
    public Report appendLogs(String jobId, int attempt, List<LogLine> lines) {
        PlatformBuildEntity pb = reportingAttempt(jobId, attempt);
        if (pb.state == BuildState.RUNNING) {
            logs.append(pb, lines);
            pb.leaseExpireTime = clock.instant().plus(leaseTimeout);
        }
        return new Report(pb.state == BuildState.CANCELLED, pb.build.id);
    }

    @Transactional
    public Finished succeed(String jobId, int attempt, String digest, String pushedRepository) {
        PlatformBuildEntity pb = reportingAttempt(jobId, attempt);
        BuildEntity build = pb.build;
        if (pb.state == BuildState.CANCELLED) {
            return new Finished(build.state, false, build.id);
        }
        Instant now = clock.instant();
        pb.digest = digest;
        pb.pushedRepository = pushedRepository.isEmpty() ? null : pushedRepository;
        pb.moveTo(BuildState.SUCCEEDED, now);
        metrics.finished(pb);
        events.platformChanged(pb);
        boolean allSucceeded = build.platformBuilds.stream().allMatch(p -> p.state == BuildState.SUCCEEDED);
        boolean ready = allSucceeded && build.state == BuildState.RUNNING;
        if (ready) {
            build.moveTo(BuildState.PUBLISHING, now);
            events.buildChanged(build);
        }
        return new Finished(build.state, ready, build.id);
    }

    @Transactional
    public Finished fail(String jobId, int attempt, String reason) {
        PlatformBuildEntity pb = reportingAttempt(jobId, attempt);
        BuildEntity build = pb.build;
        if (pb.state == BuildState.CANCELLED) {
            return new Finished(build.state, false, build.id);
        }
        Instant now = clock.instant();
        pb.failureReason = reason;
        pb.moveTo(BuildState.FAILED, now);
        metrics.finished(pb);
        events.platformChanged(pb);
        // Default policy: one failed platform fails the build, and nothing is published.
        if (!build.state.isFinal()) {
            build.failureReason = pb.platform + ": " + reason;
            build.moveTo(BuildState.FAILED, now);
            events.buildChanged(build);
        }
        return new Finished(build.state, false, build.id);
    }

    /**
     * Cancels a build: queued and running platform builds end CANCELLED now (agents learn it on their
     * next heartbeat or log batch and stop), and nothing will be published.
     */
    @Transactional
    public BuildEntity cancel(UUID buildId) {
        BuildEntity build = BuildEntity.findById(buildId, LockModeType.PESSIMISTIC_WRITE);
        if (build == null) {
            throw ApiError.notFound(BuildEntity.NAME_PREFIX + buildId + " does not exist");
        }
        if (build.state == BuildState.CANCELLED) {
            return build;
        }
        if (build.state.isFinal() || build.state == BuildState.PUBLISHING) {
            throw ApiError.failedPrecondition("BUILD_NOT_CANCELLABLE", build.name() + " is " + build.state
                    + "; only QUEUED or RUNNING builds can be cancelled");
        }
        Instant now = clock.instant();
        for (PlatformBuildEntity pb : build.platformBuilds) {
            if (!pb.state.isFinal()) {
                pb.failureReason = "cancelled";
                pb.moveTo(BuildState.CANCELLED, now);
                metrics.finished(pb);
                events.platformChanged(pb);
            }
        }
        build.failureReason = "cancelled";
        build.moveTo(BuildState.CANCELLED, now);
        events.buildChanged(build);
        return build;
    }

    /**
     * Ends the attempt of a job whose lease ran out (its agent died, hung or lost the network): the
     * job is queued again as a new attempt, or after {@code maxAttempts} fails with AGENT_LOST.
     * Reports of the old attempt are refused from now on, and that agent stops its build.
     */
    @Transactional
    public boolean expireLease(UUID jobId, Instant now) {
        PlatformBuildEntity pb = lockedJob(jobId.toString());
        if (pb.state != BuildState.RUNNING || pb.leaseExpireTime == null || !pb.leaseExpireTime.isBefore(now)) {
            return false;
        }
        BuildEntity build = pb.build;
        metrics.leaseExpired(pb);
        String lost = "agent " + pb.agent + " lost its lease on attempt " + pb.attempt;
        if (pb.attempt >= maxAttempts) {
            pb.failureReason = "AGENT_LOST: " + lost + " (" + maxAttempts + " attempts)";
            pb.moveTo(BuildState.FAILED, now);
            events.platformChanged(pb);
            if (!build.state.isFinal()) {
                build.failureReason = pb.platform + ": " + pb.failureReason;
                build.moveTo(BuildState.FAILED, now);
                events.buildChanged(build);
            }
            return true;
        }
        pb.failureReason = lost + "; queued again";
        pb.state = BuildState.QUEUED;
        pb.leaseExpireTime = null;
        store.dispatch(pb, BuildMapper.specFromJson(build.spec));
        events.platformChanged(pb);
        return true;
    }

    /** Jobs whose lease ran out before {@code now}. */
    @Transactional
    public List<UUID> expiredLeases(Instant now) {
        return PlatformBuildEntity.<PlatformBuildEntity>list("state = ?1 and leaseExpireTime < ?2", BuildState.RUNNING, now)
                .stream().map(pb -> pb.id).toList();
    }

    /** The uploaded context a claimed job builds from; only the attempt holding the lease may read it. */
    @Transactional
    public String contextDigestOf(String jobId, int attempt) {
        PlatformBuildEntity pb = reportingAttempt(jobId, attempt);
        if (pb.state != BuildState.RUNNING) {
            throw ApiError.failedPrecondition("NOT_RUNNING", "job " + jobId + " is " + pb.state);
        }
        String digest = BuildMapper.specFromJson(pb.build.spec).getContextDigest();
        if (digest.isEmpty()) {
            throw ApiError.failedPrecondition("NO_CONTEXT", "job_id", "job " + jobId + " builds from git, not from an uploaded context");
        }
        return digest;
    }

    /**
     * The job, read after its build's row is locked: the lock comes first, so what this transaction
     * reads of the build and its platforms is what no other transaction can change before it commits.
     */
    private PlatformBuildEntity lockedJob(String jobId) {
        UUID id;
        try {
            id = UUID.fromString(jobId);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("job_id", "'" + jobId + "' is not a job id");
        }
        var em = BuildEntity.getEntityManager();
        UUID buildId = em.createQuery("select pb.build.id from PlatformBuildEntity pb where pb.id = :id", UUID.class)
                .setParameter("id", id)
                .getResultStream().findFirst()
                .orElseThrow(() -> ApiError.notFound("job " + jobId + " does not exist"));
        BuildEntity build = em.find(BuildEntity.class, buildId, LockModeType.PESSIMISTIC_WRITE);
        return build.platformBuilds.stream().filter(pb -> pb.id.equals(id)).findFirst().orElseThrow();
    }

    /** The job, if the attempt still holds it, or was cancelled while holding it (the agent must hear that). */
    private PlatformBuildEntity reportingAttempt(String jobId, int attempt) {
        PlatformBuildEntity pb = lockedJob(jobId);
        boolean holds = pb.attempt == attempt && (pb.state == BuildState.RUNNING || pb.state == BuildState.CANCELLED);
        if (!holds) {
            throw ApiError.failedPrecondition("STALE_ATTEMPT", "attempt " + attempt + " of job " + jobId
                    + " no longer holds the lease (current attempt " + pb.attempt + ", state " + pb.state + ")");
        }
        return pb;
    }
}
