package dev.buildfarm.agent.jobs;

import dev.buildfarm.agent.AgentSettings;
import dev.buildfarm.agent.docker.PlatformProbe;
import dev.buildfarm.api.v1.AgentServiceGrpc.AgentServiceBlockingStub;
import dev.buildfarm.common.Platform;
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

    @GrpcClient("controller")
    AgentServiceBlockingStub controller;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "buildfarm.kafka.topic-prefix", defaultValue = "buildfarm.")
    String topicPrefix;

    private final List<JobConsumer> consumers = new ArrayList<>();
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
                    JobConsumer consumer = new JobConsumer(bootstrapServers, topicPrefix, platform, mode == PlatformProbe.Mode.EMULATED,
                            name, controller, runner, engine);
                    consumers.add(consumer);
                    Thread thread = new Thread(consumer, "jobs-" + platform.slug());
                    thread.start();
                });
            }
            served = Map.copyOf(modes);
            LOG.infof("agent %s serving %s", name, modes);
        } catch (Exception e) {
            LOG.error("agent could not start", e);
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
