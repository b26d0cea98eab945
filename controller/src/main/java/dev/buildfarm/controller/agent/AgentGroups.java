package dev.buildfarm.controller.agent;

import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.Platform;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberToRemove;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.UnknownMemberIdException;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Takes a lost agent out of its platforms' consumer groups. Agents are static members, so the broker
 * keeps a dead one's partitions for a whole session timeout; a job queued again is keyed by its build
 * and lands on the partition the dead agent held, where no one reads it until then. Removing the
 * member starts the rebalance at once and a live agent reads the job within about a second.
 */
@ApplicationScoped
public class AgentGroups {

    private static final Logger LOG = Logger.getLogger(AgentGroups.class);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    private Admin admin;
    /** One at a time, off the caller's thread: the broker may be slow or away. */
    private final ExecutorService removals = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "agent-group-removals");
        t.setDaemon(true);
        return t;
    });

    /** Removes the agent from the group of every platform it advertised, in the background. */
    public void removeLost(Agent agent) {
        String name = agent.getName().substring(AgentEntity.NAME_PREFIX.length());
        Map<String, List<String>> members = membersOf(name, agent.getPlatformsList());
        try {
            removals.execute(() -> members.forEach(this::remove));
        } catch (RejectedExecutionException e) {
            // Shutting down: the agent leaves when its session ends.
        }
    }

    /** Group → the agent's static member ids in it. */
    static Map<String, List<String>> membersOf(String agent, List<AgentPlatform> platforms) {
        Map<String, List<String>> members = new LinkedHashMap<>();
        for (AgentPlatform advertised : platforms) {
            Platform platform = Platform.parse(advertised.getPlatform());
            members.computeIfAbsent(JobTopics.agentGroup(platform, advertised.getEmulated()), g -> new ArrayList<>())
                    .add(JobTopics.agentMember(agent, platform));
        }
        return members;
    }

    /** Removes static members from a group; true if the broker removed them or did not have them. */
    boolean remove(String group, List<String> instanceIds) {
        RemoveMembersFromConsumerGroupOptions options = new RemoveMembersFromConsumerGroupOptions(
                instanceIds.stream().map(MemberToRemove::new).toList());
        try {
            admin().removeMembersFromConsumerGroup(group, options).all().get(10, TimeUnit.SECONDS);
            LOG.infof("removed %s from consumer group %s", instanceIds, group);
            return true;
        } catch (ExecutionException e) {
            if (alreadyGone(e)) {
                return true; // its session ended, or it left
            }
            LOG.warnf("could not remove %s from consumer group %s (%s); they leave when their session ends",
                    instanceIds, group, e.getCause().toString());
        } catch (TimeoutException e) {
            LOG.warnf("Kafka did not answer the removal of %s from %s; they leave when their session ends", instanceIds, group);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /** The member or its whole group no longer exists (the client may wrap the member's error). */
    private static boolean alreadyGone(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof UnknownMemberIdException || cause instanceof GroupIdNotFoundException) {
                return true;
            }
        }
        return false;
    }

    private synchronized Admin admin() {
        if (admin == null) {
            admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                    AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000));
        }
        return admin;
    }

    @PreDestroy
    synchronized void stop() {
        removals.shutdownNow();
        if (admin != null) {
            admin.close(java.time.Duration.ofSeconds(2));
        }
    }
}
