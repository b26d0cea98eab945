package dev.buildfarm.controller.agent;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.ListAgentsResponse;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.events.BuildEvents;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The agents the farm knows. Agents report their platforms and load every few seconds; a change of
 * state (new, idle, busy, lost) is an event, and an agent silent for {@code buildfarm.agent-timeout}
 * is marked LOST.
 */
@ApplicationScoped
public class AgentRegistry {

    @Inject
    Clock clock;

    @Inject
    BuildEvents events;

    @ConfigProperty(name = "buildfarm.agent-timeout")
    Duration agentTimeout;

    @Transactional
    public void report(String name, List<AgentPlatform> platforms) {
        Instant now = clock.instant();
        String state = platforms.stream().anyMatch(AgentPlatform::getBusy) ? "BUSY" : "IDLE";
        String json = toJson(platforms);
        AgentEntity agent = AgentEntity.findById(name, LockModeType.PESSIMISTIC_WRITE);
        boolean known = agent != null;
        if (!known) {
            agent = new AgentEntity();
            agent.name = name;
            agent.firstSeenTime = now;
        }
        boolean changed = !known || !state.equals(agent.state) || !json.equals(agent.platforms);
        agent.state = state;
        agent.platforms = json;
        agent.lastSeenTime = now;
        if (!known) {
            agent.persist();
        }
        if (changed) {
            events.agentChanged(toProto(agent));
        }
    }

    /** Marks agents silent for longer than the timeout as LOST. */
    @Transactional
    public int markLost(Instant now) {
        List<AgentEntity> silent = AgentEntity.list("state <> 'LOST' and lastSeenTime < ?1", now.minus(agentTimeout));
        for (AgentEntity agent : silent) {
            agent.state = "LOST";
            events.agentChanged(toProto(agent));
        }
        return silent.size();
    }

    /** Agents not LOST that were last heard from before {@code time}. */
    @Transactional
    public List<String> notLostSilentSince(Instant time) {
        return AgentEntity.<AgentEntity>list("state <> 'LOST' and lastSeenTime < ?1", time).stream().map(agent -> agent.name).toList();
    }

    /**
     * Marks one agent LOST now (its connection closed for good); its next report revives it. Answers
     * the agent as it is now, if the farm knows it.
     */
    @Transactional
    public Optional<Agent> markLost(String name) {
        AgentEntity agent = AgentEntity.findById(name, LockModeType.PESSIMISTIC_WRITE);
        if (agent == null) {
            return Optional.empty();
        }
        if (!"LOST".equals(agent.state)) {
            agent.state = "LOST";
            events.agentChanged(toProto(agent));
        }
        return Optional.of(toProto(agent));
    }

    /** Whether an agent that runs the platform natively has been heard from within the agent timeout. */
    @Transactional
    public boolean nativeAgentAlive(String platform, Instant now) {
        return AgentEntity.<AgentEntity>list("state <> 'LOST' and lastSeenTime >= ?1", now.minus(agentTimeout)).stream()
                .flatMap(agent -> toProto(agent).getPlatformsList().stream())
                .anyMatch(p -> p.getPlatform().equals(platform) && !p.getEmulated());
    }

    @Transactional
    public ListAgentsResponse list() {
        ListAgentsResponse.Builder out = ListAgentsResponse.newBuilder();
        AgentEntity.<AgentEntity>listAll().stream()
                .sorted(java.util.Comparator.comparing(a -> a.name))
                .forEach(a -> out.addAgents(toProto(a)));
        return out.build();
    }

    static Agent toProto(AgentEntity entity) {
        Agent.Builder agent = Agent.newBuilder()
                .setName(AgentEntity.NAME_PREFIX + entity.name)
                .setState(Agent.State.valueOf(entity.state))
                .setFirstSeenTime(BuildMapper.timestamp(entity.firstSeenTime))
                .setLastSeenTime(BuildMapper.timestamp(entity.lastSeenTime));
        try {
            ListAgentsResponse.Builder wrapper = ListAgentsResponse.newBuilder();
            JsonFormat.parser().merge("{\"agents\":[{\"platforms\":" + entity.platforms + "}]}", wrapper);
            agent.addAllPlatforms(wrapper.getAgents(0).getPlatformsList());
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("stored platforms of agent " + entity.name + " are not AgentPlatform JSON", e);
        }
        return agent.build();
    }

    private static String toJson(List<AgentPlatform> platforms) {
        try {
            StringBuilder out = new StringBuilder("[");
            for (AgentPlatform platform : platforms) {
                if (out.length() > 1) {
                    out.append(',');
                }
                out.append(JsonFormat.printer().omittingInsignificantWhitespace().print(platform));
            }
            return out.append(']').toString();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
