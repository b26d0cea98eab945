package dev.buildfarm.controller.agent;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.LogContext;
import dev.buildfarm.controller.admission.Admission;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import dev.buildfarm.controller.build.SecretBuildArgs;
import dev.buildfarm.controller.tenancy.RegistryCredentials;
import dev.buildfarm.controller.events.BuildEvents;
import dev.buildfarm.controller.logs.LiveLogs;
import dev.buildfarm.controller.metrics.FarmMetrics;
import dev.buildfarm.controller.rules.RuleStore;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The controller's side of the agent protocol: claims grant a lease for one attempt, and every
 * later report must name the attempt that still holds it. Each call locks the build row, so the
 * last platform to finish is seen by exactly one transaction, and log offsets are assigned in order.
 */
@ApplicationScoped
public class AgentJobs {

    private static final Logger LOG = Logger.getLogger(AgentJobs.class);

    /**
     * A claim's answer: {@code retryAfter} is non-zero when the job may become this agent's later;
     * credentials come only with a granted claim whose source has them, and so do the values of the
     * build's secret build arguments and its namespace's credential for the target registry.
     * {@code job} is set when another job than the one asked for was granted (oldest first).
     */
    public record Claim(boolean granted, int attempt, String reason, Duration lease, Duration retryAfter,
                        Optional<SourceCredentials> credentials, Map<String, String> secretBuildArgs,
                        Optional<RegistryAuth> registryAuth, Optional<PlatformJob> job) {

        static Claim refused(int attempt, String reason) {
            return new Claim(false, attempt, reason, Duration.ZERO, Duration.ZERO, Optional.empty(), Map.of(), Optional.empty(),
                    Optional.empty());
        }

        /** Without the credentials and secret values, which a record's own toString would print. */
        @Override
        public String toString() {
            return "Claim[granted=" + granted + ", attempt=" + attempt + ", reason=" + reason
                    + job.map(j -> ", job=" + j.getJobId()).orElse("") + "]";
        }
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
    LiveLogs logs;

    @Inject
    BuildStore store;

    @Inject
    FarmMetrics metrics;

    @Inject
    AgentRegistry agents;

    @Inject
    RuleStore rules;

    @Inject
    Admission admission;

    @Inject
    SecretBuildArgs secrets;

    @Inject
    RegistryCredentials registryCredentials;

    @ConfigProperty(name = "buildfarm.lease-timeout")
    Duration leaseTimeout;

    /** How long a job waits for a native agent before an emulating one may take it (FALLBACK). */
    @ConfigProperty(name = "buildfarm.emulation.native-wait")
    Duration nativeWait;

    /** Attempts a platform job gets before a lost agent fails it. */
    @ConfigProperty(name = "buildfarm.max-attempts")
    int maxAttempts;

    @Transactional
    public Claim claim(String jobId, String agent, boolean emulated) {
        return claim(jobId, agent, emulated, false);
    }

    /**
     * Grants the job a lease for a new attempt. With {@code oldestFirst}, when the platform has an
     * older admitted job waiting that this agent may take, that one is granted instead and the job
     * asked for is sent to its topic again, keeping its admit time: Kafka hands an agent whichever
     * record its partitions hold, so a job queued again after its agent was lost (at the end of its
     * partition, or on a partition whose agent is busy) would otherwise wait behind newer jobs.
     */
    @Transactional
    public Claim claim(String jobId, String agent, boolean emulated, boolean oldestFirst) {
        PlatformBuildEntity pb = lockedJob(jobId);
        if (pb.state != BuildState.QUEUED || pb.build.state.isFinal()) {
            return Claim.refused(pb.attempt, "the job is " + pb.state + " and the build " + pb.build.state);
        }
        Instant now = clock.instant();
        BuildSpec spec = BuildMapper.specFromJson(pb.build.spec);
        Claim byPolicy = emulationPolicy(pb, spec.getEmulation(), emulated, now);
        if (byPolicy != null) {
            return byPolicy;
        }
        if (oldestFirst) {
            Optional<PlatformBuildEntity> older = olderWaiting(pb, emulated, now);
            if (older.isPresent()) {
                store.dispatch(pb, spec);
                PlatformBuildEntity instead = older.get();
                BuildSpec insteadSpec = BuildMapper.specFromJson(instead.build.spec);
                try (LogContext context = logContext(instead)) {
                    LOG.infof("%s asked for job %s of %s; granting this older waiting job first", agent, pb.id, pb.build.name());
                }
                return grant(instead, insteadSpec, agent, emulated, now, Optional.of(BuildStore.jobOf(instead, insteadSpec)));
            }
        }
        return grant(pb, spec, agent, emulated, now, Optional.empty());
    }

    private Claim grant(PlatformBuildEntity pb, BuildSpec spec, String agent, boolean emulated, Instant now, Optional<PlatformJob> other) {
        pb.attempt += 1;
        pb.logSequence = 0;
        pb.agent = agent;
        pb.emulated = emulated;
        pb.leaseExpireTime = now.plus(leaseTimeout);
        pb.moveTo(BuildState.RUNNING, now);
        try (LogContext context = logContext(pb)) {
            LOG.infof("attempt %d claimed by %s (%s)", pb.attempt, agent, emulated ? "emulated" : "native");
        }
        metrics.claimed(pb, now);
        events.platformChanged(pb);
        if (pb.build.state == BuildState.QUEUED) {
            pb.build.moveTo(BuildState.RUNNING, now);
            events.buildChanged(pb.build);
        }
        return new Claim(true, pb.attempt, "", leaseTimeout, Duration.ZERO,
                rules.credentialsForBuild(pb.build.triggerRule, spec.getSource().getUrl()),
                secrets.open(pb.build.sealedSecrets),
                registryCredentials.forRepository(pb.build.namespace, spec.getRepository()), other);
    }

    /** How many older waiting jobs a claim looks at for one this agent may take. */
    private static final int OLDER_CANDIDATES = 8;

    /**
     * The oldest admitted job of the same platform still waiting, admitted before {@code asked}, that
     * this agent may take now; its build row is locked. Rows another transaction holds are skipped, not
     * waited for: this one already holds the asked job's build, and two claims must not wait on each other.
     */
    private Optional<PlatformBuildEntity> olderWaiting(PlatformBuildEntity asked, boolean emulated, Instant now) {
        if (asked.admitTime == null) {
            return Optional.empty();
        }
        var em = BuildEntity.getEntityManager();
        @SuppressWarnings("unchecked")
        List<Object[]> candidates = em.createNativeQuery("""
                select pb.id, pb.build_id from platform_build pb join build b on b.id = pb.build_id
                where pb.platform = :platform and pb.state = 'QUEUED' and pb.admit_time is not null
                  and (pb.admit_time, pb.id) < (:admit, :id) and b.state in ('QUEUED', 'RUNNING')
                order by pb.admit_time, pb.id limit :limit""")
                .setParameter("platform", asked.platform)
                .setParameter("admit", asked.admitTime)
                .setParameter("id", asked.id)
                .setParameter("limit", OLDER_CANDIDATES)
                .getResultList();
        for (Object[] candidate : candidates) {
            UUID id = (UUID) candidate[0];
            UUID buildId = (UUID) candidate[1];
            boolean locked = !em.createNativeQuery("select id from build where id = :id for update skip locked")
                    .setParameter("id", buildId).getResultList().isEmpty();
            if (!locked) {
                continue;
            }
            BuildEntity build = em.find(BuildEntity.class, buildId);
            PlatformBuildEntity pb = build.platformBuilds.stream().filter(p -> p.id.equals(id)).findFirst().orElseThrow();
            // Read again under the lock: another claim may have taken it since the query.
            if (pb.state != BuildState.QUEUED || build.state.isFinal()) {
                continue;
            }
            if (emulationPolicy(pb, BuildMapper.specFromJson(build.spec).getEmulation(), emulated, now) == null) {
                return Optional.of(pb);
            }
        }
        return Optional.empty();
    }

    /**
     * The build's emulation policy applied to a claim: null when the agent may take the job. Under
     * FALLBACK an emulating agent waits while a native agent of the platform is alive and the job has
     * waited less than the native wait; it is told when to ask again.
     */
    private Claim emulationPolicy(PlatformBuildEntity pb, BuildSpec.Emulation policy, boolean emulated, Instant now) {
        if (policy == BuildSpec.Emulation.NEVER && emulated) {
            return Claim.refused(pb.attempt, "the build's emulation policy is NEVER: native agents only");
        }
        if (policy == BuildSpec.Emulation.ALWAYS && !emulated) {
            return Claim.refused(pb.attempt, "the build's emulation policy is ALWAYS: emulating agents only");
        }
        if (policy == BuildSpec.Emulation.ALWAYS || !emulated) {
            return null;
        }
        // Time spent waiting for admission is not time a native agent could have taken the job.
        Duration waited = Duration.between(pb.admitTime != null ? pb.admitTime : pb.createTime, now);
        if (waited.compareTo(nativeWait) >= 0 || !agents.nativeAgentAlive(pb.platform, now)) {
            return null;
        }
        Duration left = nativeWait.minus(waited);
        return new Claim(false, pb.attempt, "waiting up to " + nativeWait.toSeconds() + " s for a native agent",
                Duration.ZERO, left, Optional.empty(), Map.of(), Optional.empty(), Optional.empty());
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

    /** One batch of log lines, answered once stored (LiveLogs gives the offsets and extends the lease). */
    public Report appendLogs(String jobId, int attempt, List<LogLine> lines) {
        LiveLogs.Ack ack = logs.acceptAndStore(jobId, attempt, lines);
        return new Report(ack.cancelRequested(), ack.buildId());
    }

    @Transactional
    public Finished succeed(String jobId, int attempt, String digest, String pushedRepository) {
        PlatformBuildEntity pb = lockedJob(jobId);
        if (pb.attempt == attempt && pb.state == BuildState.SUCCEEDED && digest.equals(pb.digest)) {
            // The same winning report again (its answer was lost): the same answer, nothing changes.
            return new Finished(pb.build.state, false, pb.build.id);
        }
        pb = reportingAttempt(jobId, attempt);
        BuildEntity build = pb.build;
        if (pb.state == BuildState.CANCELLED) {
            return new Finished(build.state, false, build.id);
        }
        Instant now = clock.instant();
        pb.digest = digest;
        pb.pushedRepository = pushedRepository.isEmpty() ? null : pushedRepository;
        pb.moveTo(BuildState.SUCCEEDED, now);
        try (LogContext context = logContext(pb)) {
            LOG.infof("succeeded: %s", digest);
        }
        metrics.finished(pb);
        events.platformChanged(pb);
        admission.passAfterCommit();
        boolean ready = settle(build, now);
        return new Finished(build.state, ready, build.id);
    }

    @Transactional
    public Finished fail(String jobId, int attempt, String reason) {
        PlatformBuildEntity pb = lockedJob(jobId);
        if (pb.attempt == attempt && pb.state == BuildState.FAILED && reason.equals(pb.failureReason)) {
            // The same failure report again: the same answer.
            return new Finished(pb.build.state, false, pb.build.id);
        }
        pb = reportingAttempt(jobId, attempt);
        BuildEntity build = pb.build;
        if (pb.state == BuildState.CANCELLED) {
            return new Finished(build.state, false, build.id);
        }
        Instant now = clock.instant();
        pb.failureReason = reason;
        pb.moveTo(BuildState.FAILED, now);
        try (LogContext context = logContext(pb)) {
            LOG.infof("failed: %s", reason);
        }
        metrics.finished(pb);
        events.platformChanged(pb);
        admission.passAfterCommit();
        boolean ready = settle(build, now);
        return new Finished(build.state, ready, build.id);
    }

    /**
     * Moves the build on after one of its platforms ended, by its failure policy; answers whether the
     * index is now to be published. By default a failed platform fails the build at once (the other
     * platforms run on, so a RetryBuild can reuse their digests) and nothing is published. Under
     * publish_partial the build waits for every platform, then publishes those that succeeded.
     */
    private boolean settle(BuildEntity build, Instant now) {
        if (build.state != BuildState.QUEUED && build.state != BuildState.RUNNING) {
            return false;
        }
        List<PlatformBuildEntity> failed = build.platformBuilds.stream().filter(p -> p.state == BuildState.FAILED).toList();
        boolean allEnded = build.platformBuilds.stream().allMatch(p -> p.state.isFinal());
        boolean partial = BuildMapper.specFromJson(build.spec).getPublishPartial();
        if (!failed.isEmpty() && (!partial || (allEnded && failed.size() == build.platformBuilds.size()))) {
            build.failureReason = failed.stream().map(p -> p.platform + ": " + p.failureReason).collect(Collectors.joining("; "));
            build.moveTo(BuildState.FAILED, now);
            events.buildChanged(build);
            return false;
        }
        if (!allEnded) {
            return false;
        }
        build.missingPlatforms = failed.isEmpty() ? null
                : failed.stream().map(p -> p.platform).collect(Collectors.joining(","));
        build.moveTo(BuildState.PUBLISHING, now);
        events.buildChanged(build);
        return true;
    }

    /**
     * RetryBuild: queues the given platforms of a FAILED build again (all that did not succeed when
     * none are named), as new attempts at the same commit; platforms that succeeded keep their digest.
     */
    @Transactional
    public BuildEntity retry(UUID buildId, List<String> platforms) {
        BuildEntity build = BuildEntity.findById(buildId, LockModeType.PESSIMISTIC_WRITE);
        if (build == null) {
            throw ApiError.notFound(BuildEntity.NAME_PREFIX + buildId + " does not exist");
        }
        if (build.state != BuildState.FAILED) {
            throw ApiError.failedPrecondition("BUILD_NOT_RETRYABLE", build.name() + " is " + build.state
                    + "; only FAILED builds can be retried");
        }
        List<PlatformBuildEntity> again = new ArrayList<>();
        for (String platform : platforms) {
            PlatformBuildEntity pb = build.platformBuilds.stream().filter(p -> p.platform.equals(platform)).findFirst()
                    .orElseThrow(() -> ApiError.invalid("platforms", "'" + platform + "' is not a platform of " + build.name()));
            if (pb.state == BuildState.SUCCEEDED) {
                throw ApiError.invalid("platforms", platform + " of " + build.name() + " succeeded already; only platforms that did not can be retried");
            }
            if (pb.state == BuildState.RUNNING) {
                throw ApiError.failedPrecondition("PLATFORM_STILL_RUNNING", platform + " of " + build.name()
                        + " is still running; retry it once it has ended");
            }
            again.add(pb);
        }
        if (platforms.isEmpty()) {
            // Platforms still running go on and keep their result; queued ones were refused to agents
            // once the build failed, so they are queued again.
            build.platformBuilds.stream().filter(p -> p.state != BuildState.SUCCEEDED && p.state != BuildState.RUNNING)
                    .forEach(again::add);
        }
        if (again.isEmpty()) {
            throw ApiError.failedPrecondition("NOTHING_TO_RETRY", "every platform of " + build.name()
                    + " has succeeded or is still running");
        }
        Instant now = clock.instant();
        for (PlatformBuildEntity pb : again) {
            pb.attemptsBeforeRetry = pb.attempt;
            pb.state = BuildState.QUEUED;
            pb.failureReason = null;
            pb.digest = null;
            pb.startTime = null;
            pb.endTime = null;
            pb.createTime = now;
            // Queued again behind the admission limits, like a new job.
            pb.admitTime = null;
            events.platformChanged(pb);
        }
        admission.passAfterCommit();
        boolean started = build.platformBuilds.stream().anyMatch(p -> p.state != BuildState.QUEUED);
        build.failureReason = null;
        build.missingPlatforms = null;
        build.endTime = null;
        build.moveTo(started ? BuildState.RUNNING : BuildState.QUEUED, now);
        events.buildChanged(build);
        return build;
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
        // Jobs still waiting for admission are never sent; those admitted free their slots.
        admission.passAfterCommit();
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
        boolean lastAttempt = pb.attempt - pb.attemptsBeforeRetry >= maxAttempts;
        try (LogContext context = logContext(pb)) {
            LOG.warnf("%s; %s", lost, lastAttempt ? "no attempts left" : "queued again");
        }
        if (lastAttempt) {
            pb.failureReason = "AGENT_LOST: " + lost + " (" + maxAttempts + " attempts)";
            pb.moveTo(BuildState.FAILED, now);
            events.platformChanged(pb);
            admission.passAfterCommit();
            // Under publish_partial this may leave the build PUBLISHING; the publication sweep takes it.
            settle(build, now);
            return true;
        }
        pb.failureReason = lost + "; queued again";
        pb.state = BuildState.QUEUED;
        pb.leaseExpireTime = null;
        store.dispatch(pb, BuildMapper.specFromJson(build.spec));
        events.platformChanged(pb);
        return true;
    }

    /**
     * Ends now the leases an agent holds (its connection closed and it did not come back); the lease
     * sweep then hands the jobs to new attempts. A heartbeat that still arrives extends them again.
     */
    @Transactional
    public int cutLeases(String agent, Instant now) {
        return PlatformBuildEntity.update("leaseExpireTime = ?1 where agent = ?2 and state = ?3 and leaseExpireTime > ?1",
                now, agent, BuildState.RUNNING);
    }

    /** The agents holding a lease on a job they claimed before {@code time}. */
    @Transactional
    public List<String> leaseHoldersClaimedBefore(Instant time) {
        return PlatformBuildEntity.getEntityManager().createQuery(
                "select distinct pb.agent from PlatformBuildEntity pb where pb.state = ?1 and pb.startTime < ?2", String.class)
                .setParameter(1, BuildState.RUNNING).setParameter(2, time).getResultList();
    }

    /** An agent's jobs whose lease ran out before {@code now}. */
    @Transactional
    public List<UUID> expiredLeasesOf(String agent, Instant now) {
        return PlatformBuildEntity.<PlatformBuildEntity>list("agent = ?1 and state = ?2 and leaseExpireTime < ?3", agent, BuildState.RUNNING, now)
                .stream().map(pb -> pb.id).toList();
    }

    /** Jobs whose lease ran out before {@code now}. */
    @Transactional
    public List<UUID> expiredLeases(Instant now) {
        return PlatformBuildEntity.<PlatformBuildEntity>list("state = ?1 and leaseExpireTime < ?2", BuildState.RUNNING, now)
                .stream().map(pb -> pb.id).toList();
    }

    /** Log context of a platform build's current attempt. */
    private static LogContext logContext(PlatformBuildEntity pb) {
        return LogContext.open().build(pb.build.name()).platform(pb.platform).attempt(pb.attempt).agent(pb.agent);
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
