package dev.buildfarm.controller.agent;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Finds running jobs whose agent stopped heartbeating and hands them to another attempt, and marks
 * silent agents LOST. After a
 * controller start it waits one lease timeout first: agents could not heartbeat while it was down,
 * and a live agent must get the chance to renew before its job is taken away.
 */
@ApplicationScoped
public class LeaseSweeper {

    private static final Logger LOG = Logger.getLogger(LeaseSweeper.class);

    @Inject
    AgentJobs jobs;

    @Inject
    AgentRegistry agents;

    @Inject
    Clock clock;

    @ConfigProperty(name = "buildfarm.lease-timeout")
    Duration leaseTimeout;

    private volatile Instant sweepFrom = Instant.MAX;

    void start(@Observes StartupEvent event) {
        sweepFrom = clock.instant().plus(leaseTimeout);
    }

    @Scheduled(every = "${buildfarm.lease-sweep-interval}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        Instant now = clock.instant();
        if (now.isBefore(sweepFrom)) {
            return;
        }
        if (agents.markLost(now) > 0) {
            LOG.warn("agents marked LOST: not heard from within the agent timeout");
        }
        for (UUID job : jobs.expiredLeases(now)) {
            // Logged by expireLease, with the build, platform, attempt and agent.
            jobs.expireLease(job, now);
        }
    }
}
