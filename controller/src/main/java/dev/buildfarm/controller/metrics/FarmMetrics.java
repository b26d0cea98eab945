package dev.buildfarm.controller.metrics;

import dev.buildfarm.common.Platform;
import dev.buildfarm.controller.agent.AgentRegistry;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The farm's signals for operators, on /q/metrics (Prometheus): queue depth, oldest waiting job and
 * wait per platform, builds by state, platform build duration by platform and native/emulated, agents
 * by platform and state, lease expiries, log bytes. Gauges come from grouped queries, refreshed at most
 * every few seconds however often scraped. Counters exist from the start at 0 for every platform, so
 * rate() and alerts work before the first expiry.
 */
@ApplicationScoped
public class FarmMetrics {

    private static final Duration REFRESH = Duration.ofSeconds(5);

    @Inject
    MeterRegistry registry;

    @Inject
    AgentRegistry registryOfAgents;

    private record Snapshot(Instant taken, Map<String, Long> queued, Map<String, Instant> oldestQueued, Map<BuildState, Long> builds,
            Map<String, Long> agents) {
    }

    private final AtomicReference<Snapshot> snapshot = new AtomicReference<>(
            new Snapshot(Instant.EPOCH, Map.of(), Map.of(), Map.of(), Map.of()));

    void register(@Observes StartupEvent event) {
        for (Platform platform : Platform.SUPPORTED) {
            String name = platform.toString();
            Gauge.builder("buildfarm.queue.depth", this, m -> m.current().queued().getOrDefault(name, 0L))
                    .description("Platform jobs waiting for an agent").tag("platform", name).register(registry);
            Gauge.builder("buildfarm.queue.oldest", this, m -> m.oldestWaitSeconds(name)).baseUnit("seconds")
                    .description("How long the oldest waiting job of a platform has waited (0: none waits)")
                    .tag("platform", name).register(registry);
            leaseExpiries(name);
            logBytes(name);
            for (String state : List.of("IDLE", "BUSY", "LOST")) {
                Gauge.builder("buildfarm.agents", this, m -> m.current().agents().getOrDefault(name + " " + state, 0L))
                        .description("Agents serving a platform, by state").tag("platform", name)
                        .tag("state", state.toLowerCase()).register(registry);
            }
        }
        for (BuildState state : BuildState.values()) {
            Gauge.builder("buildfarm.builds", this, m -> m.current().builds().getOrDefault(state, 0L))
                    .description("Builds by state").tag("state", state.name().toLowerCase()).register(registry);
        }
    }

    public void claimed(PlatformBuildEntity pb, Instant now) {
        Timer.builder("buildfarm.queue.wait").description("Time a platform job waited for an agent")
                .tag("platform", pb.platform).tag("mode", mode(pb)).publishPercentileHistogram()
                .register(registry).record(Duration.between(pb.createTime, now));
    }

    public void finished(PlatformBuildEntity pb) {
        if (pb.startTime == null || pb.endTime == null) {
            return;
        }
        Timer.builder("buildfarm.build.duration").description("Platform build time, claim to result")
                .tag("platform", pb.platform).tag("mode", mode(pb)).tag("state", pb.state.name().toLowerCase())
                .publishPercentileHistogram()
                .register(registry).record(Duration.between(pb.startTime, pb.endTime));
    }

    public void leaseExpired(PlatformBuildEntity pb) {
        leaseExpiries(pb.platform).increment();
    }

    public void logBytes(String platform, long bytes) {
        logBytes(platform).increment(bytes);
    }

    private Counter leaseExpiries(String platform) {
        return Counter.builder("buildfarm.lease.expiries").description("Leases that ran out: agents presumed lost")
                .tag("platform", platform).register(registry);
    }

    private Counter logBytes(String platform) {
        return Counter.builder("buildfarm.log.bytes").description("Build log bytes stored")
                .tag("platform", platform).register(registry);
    }

    private double oldestWaitSeconds(String platform) {
        Instant oldest = current().oldestQueued().get(platform);
        return oldest == null ? 0 : Math.max(0, Duration.between(oldest, Instant.now()).toMillis() / 1000.0);
    }

    private static String mode(PlatformBuildEntity pb) {
        return pb.emulated ? "emulated" : "native";
    }

    /** Platform jobs waiting for an agent, by platform (at most a few seconds old). */
    public Map<String, Long> queuedByPlatform() {
        return current().queued();
    }

    private Snapshot current() {
        Snapshot last = snapshot.get();
        if (Duration.between(last.taken(), Instant.now()).compareTo(REFRESH) < 0) {
            return last;
        }
        Snapshot fresh = QuarkusTransaction.requiringNew().call(() -> {
            Map<String, Long> queued = new HashMap<>();
            Map<String, Instant> oldestQueued = new HashMap<>();
            List<Object[]> rows = PlatformBuildEntity.getEntityManager()
                    .createQuery("select pb.platform, count(pb), min(pb.createTime) from PlatformBuildEntity pb where pb.state = :s"
                            + " group by pb.platform", Object[].class)
                    .setParameter("s", BuildState.QUEUED).getResultList();
            rows.forEach(r -> {
                queued.put((String) r[0], (Long) r[1]);
                oldestQueued.put((String) r[0], (Instant) r[2]);
            });
            Map<BuildState, Long> builds = new EnumMap<>(BuildState.class);
            BuildEntity.getEntityManager()
                    .createQuery("select b.state, count(b) from BuildEntity b group by b.state", Object[].class)
                    .getResultList().forEach(r -> builds.put((BuildState) r[0], (Long) r[1]));
            Map<String, Long> agents = new HashMap<>();
            registryOfAgents.list().getAgentsList().forEach(a -> a.getPlatformsList().forEach(
                    p -> agents.merge(p.getPlatform() + " " + a.getState().name(), 1L, Long::sum)));
            return new Snapshot(Instant.now(), queued, oldestQueued, builds, agents);
        });
        snapshot.set(fresh);
        return fresh;
    }
}
