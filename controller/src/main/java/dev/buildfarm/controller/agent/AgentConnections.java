package dev.buildfarm.controller.agent;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The agents' Attach streams. A stream that closes is how a dead agent shows itself first (its
 * kernel resets the connection): unless the agent attaches again within the grace, its running jobs'
 * leases are cut short, so the lease sweep hands them to a new attempt within about a second
 * instead of a whole lease timeout.
 */
@ApplicationScoped
public class AgentConnections {

    private static final Logger LOG = Logger.getLogger(AgentConnections.class);

    @Inject
    AgentJobs jobs;

    @Inject
    Clock clock;

    @ConfigProperty(name = "buildfarm.disconnect-grace")
    Duration grace;

    /** Open streams per agent: an agent reconnecting may briefly hold two. */
    private final Map<String, Integer> open = new HashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-disconnects");
        t.setDaemon(true);
        return t;
    });

    public synchronized void attached(String agent) {
        open.merge(agent, 1, Integer::sum);
    }

    public synchronized void detached(String agent) {
        if (open.merge(agent, -1, Integer::sum) <= 0) {
            open.remove(agent);
            timer.schedule(() -> takeBackIfGone(agent), grace.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void takeBackIfGone(String agent) {
        synchronized (this) {
            if (open.containsKey(agent)) {
                return;
            }
        }
        try {
            int cut = jobs.cutLeases(agent, clock.instant());
            if (cut > 0) {
                LOG.warnf("agent %s disconnected and did not come back within %d ms: %d job lease(s) cut short",
                        agent, grace.toMillis(), cut);
            }
        } catch (RuntimeException e) {
            LOG.warnf(e, "could not cut the leases of disconnected agent %s; they run out on their own", agent);
        }
    }

    @PreDestroy
    void stop() {
        timer.shutdownNow();
    }
}
