package dev.buildfarm.controller.agent;

import io.quarkus.runtime.StartupEvent;
import io.vertx.core.http.HttpConnection;
import io.vertx.ext.web.Router;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The connections that carry the agents' Attach streams. A closed connection is how a dead agent
 * shows itself first (its kernel resets the socket): unless the agent attaches again within the
 * grace, it is marked LOST and its running jobs go to new attempts at once instead of after a whole
 * lease timeout; it is also taken out of its Kafka consumer groups, so those jobs, queued again on
 * its partitions, reach a live agent now rather than after its Kafka session runs out.
 *
 * <p>The connection is watched at the HTTP layer, ahead of gRPC: on the shared HTTP server a
 * connection that drops does not reach a gRPC call as a cancellation. The agent names itself in
 * the {@value #AGENT_HEADER} header of its Attach call.
 *
 * <p>A controller that starts again has no connections to watch: live agents attach again within
 * about a second (they retry every second), so an agent still holding a lease from before the start
 * that has not attached within {@code buildfarm.restart-attach-grace} is taken to be gone too.
 * Without this, an agent that died while the controller was down kept its jobs for a whole lease
 * timeout.
 */
@ApplicationScoped
public class AgentConnections {

    public static final String AGENT_HEADER = "buildfarm-agent";
    private static final String ATTACH_PATH = "/buildfarm.v1.AgentService/Attach";
    private static final Pattern AGENT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");
    private static final Logger LOG = Logger.getLogger(AgentConnections.class);

    @Inject
    AgentJobs jobs;

    @Inject
    AgentRegistry agents;

    @Inject
    AgentGroups groups;

    @Inject
    Clock clock;

    @ConfigProperty(name = "buildfarm.disconnect-grace")
    Duration grace;

    @ConfigProperty(name = "buildfarm.restart-attach-grace")
    Duration restartGrace;

    /** Connections that carry an Attach stream, and whose they are. */
    private final Map<HttpConnection, String> attachedBy = new IdentityHashMap<>();
    /** Open connections per agent: one reconnecting may briefly hold two. */
    private final Map<String, Integer> open = new HashMap<>();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-disconnects");
        t.setDaemon(true);
        return t;
    });

    void watch(@Observes Router router) {
        router.route(ATTACH_PATH).order(Integer.MIN_VALUE).handler(rc -> {
            String agent = rc.request().getHeader(AGENT_HEADER);
            if (agent != null && AGENT_NAME.matcher(agent).matches()) {
                HttpConnection connection = rc.request().connection();
                if (attached(connection, agent)) {
                    connection.closeHandler(closed -> detached(connection));
                }
            }
            rc.next();
        });
    }

    void started(@Observes StartupEvent event) {
        Instant start = clock.instant();
        timer.schedule(() -> takeBackUnattached(start), restartGrace.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Marks LOST, and takes back the jobs of, the agents known from before {@code start} (holding a
     * lease claimed before it, or not LOST and not heard from since) that have not attached since.
     */
    void takeBackUnattached(Instant start) {
        try {
            Set<String> known = new TreeSet<>(jobs.leaseHoldersClaimedBefore(start));
            known.addAll(agents.notLostSilentSince(start));
            for (String agent : known) {
                takeBackIfGone(agent, restartGrace);
            }
        } catch (RuntimeException e) {
            LOG.warnf(e, "could not check which agents came back after the start; their leases run out on their own");
        }
    }

    /** True the first time the connection carries an Attach. */
    synchronized boolean attached(HttpConnection connection, String agent) {
        if (attachedBy.putIfAbsent(connection, agent) != null) {
            return false;
        }
        if (open.merge(agent, 1, Integer::sum) == 1) {
            LOG.infof("agent %s attached", agent);
        }
        return true;
    }

    synchronized void detached(HttpConnection connection) {
        String agent = attachedBy.remove(connection);
        if (agent != null && open.merge(agent, -1, Integer::sum) <= 0) {
            open.remove(agent);
            LOG.infof("agent %s detached", agent);
            timer.schedule(() -> takeBackIfGone(agent, grace), grace.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void takeBackIfGone(String agent, Duration waited) {
        synchronized (this) {
            if (open.containsKey(agent)) {
                return;
            }
        }
        try {
            agents.markLost(agent).ifPresent(groups::removeLost);
            Instant now = clock.instant();
            int cut = jobs.cutLeases(agent, now);
            // Queued again now, not at the next lease sweep: after a controller start the sweep waits
            // one lease timeout, for agents that could not reach it; this one is known to be gone.
            Instant past = now.plusMillis(1);
            for (UUID job : jobs.expiredLeasesOf(agent, past)) {
                jobs.expireLease(job, past);
            }
            if (cut > 0) {
                LOG.warnf("agent %s disconnected and did not come back within %d ms: %d job lease(s) cut short",
                        agent, waited.toMillis(), cut);
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
