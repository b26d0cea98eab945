package dev.buildfarm.agent.jobs;

import dev.buildfarm.agent.AgentSettings;
import dev.buildfarm.agent.docker.PlatformProbe;
import dev.buildfarm.api.v1.AgentServiceGrpc.AgentServiceBlockingStub;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.ReportAgentRequest;
import dev.buildfarm.common.Platform;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** Probes the platforms this host can build, then serves each one's job topic. */
@ApplicationScoped
public class Agent {

    private static final Logger LOG = Logger.getLogger(Agent.class);

    @Inject
    AgentSettings settings;

    @Inject
    PlatformProbe probe;

    @Inject
    JobRunner runner;

    @Inject
    ControllerSession session;

    @Inject
    MeterRegistry registry;

    @GrpcClient("controller")
    AgentServiceBlockingStub controller;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "buildfarm.kafka.topic-prefix", defaultValue = "buildfarm.")
    String topicPrefix;

    private final List<JobConsumer> consumers = new ArrayList<>();
    private final ScheduledExecutorService reporter = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "agent-report");
        t.setDaemon(true);
        return t;
    });
    private volatile Map<Platform, PlatformProbe.Mode> served = Map.of();

    void start(@Observes StartupEvent event) {
        Thread starter = new Thread(this::probeAndServe, "agent-start");
        starter.setDaemon(true);
        starter.start();
    }

    /** Platforms served after the probe, and how. Empty until the probe has run. */
    public Map<Platform, PlatformProbe.Mode> served() {
        return served;
    }

    private void probeAndServe() {
        try {
            List<Platform> wanted = settings.platforms().stream().map(Platform::parse).toList();
            Platform engine = probe.enginePlatform();
            Map<Platform, PlatformProbe.Mode> modes = probe.probe(wanted, settings.probeImage());
            String name = settings.name().orElseGet(Agent::hostName);
            synchronized (consumers) {
                modes.forEach((platform, mode) -> {
                    if (mode == PlatformProbe.Mode.EMULATED && !settings.allowEmulation()) {
                        LOG.infof("not serving %s: emulation is disabled", platform);
                        return;
                    }
                    int slots = settings.slots().getOrDefault(platform.toString(), 1);
                    JobConsumer consumer = new JobConsumer(bootstrapServers, topicPrefix, platform, mode == PlatformProbe.Mode.EMULATED,
                            name, controller, runner, engine, slots);
                    consumers.add(consumer);
                    // Slots per platform served, labelled native or emulated; busy counts running builds.
                    Gauge.builder("buildfarm.agent.platforms", consumer::slots).tag("platform", platform.toString())
                            .tag("mode", mode.name().toLowerCase()).register(registry);
                    Gauge.builder("buildfarm.agent.busy", consumer::running)
                            .tag("platform", platform.toString()).register(registry);
                    Thread thread = new Thread(consumer, "jobs-" + platform.slug());
                    thread.start();
                });
            }
            // Registered with the controller before it reports ready.
            report(name);
            session.start(name);
            served = Map.copyOf(modes);
            LOG.infof("agent %s serving %s", name, modes);
            long every = settings.heartbeatInterval().toMillis();
            reporter.scheduleWithFixedDelay(() -> report(name), every, every, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            LOG.error("agent could not start", e);
        }
    }

    /** Tells the controller which platforms this agent serves and which are busy. */
    private void report(String name) {
        ReportAgentRequest.Builder request = ReportAgentRequest.newBuilder().setAgent(name);
        synchronized (consumers) {
            consumers.forEach(c -> request.addPlatforms(AgentPlatform.newBuilder()
                    .setPlatform(c.platform().toString()).setEmulated(c.emulated()).setBusy(c.running() > 0)
                    .setSlots(c.slots()).setRunning(c.running())));
        }
        try {
            controller.withDeadlineAfter(5, TimeUnit.SECONDS).reportAgent(request.build());
        } catch (StatusRuntimeException e) {
            LOG.debugf("agent report failed: %s", e.getStatus());
        }
    }

    /** SIGTERM: take no new jobs, let running builds finish. */
    void stop(@Observes ShutdownEvent event) throws InterruptedException {
        synchronized (consumers) {
            consumers.forEach(JobConsumer::stop);
            for (JobConsumer consumer : consumers) {
                consumer.awaitIdle(Duration.ofMinutes(10));
            }
        }
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "agent";
        }
    }
}
