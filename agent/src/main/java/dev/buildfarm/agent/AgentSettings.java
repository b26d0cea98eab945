package dev.buildfarm.agent;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

@ConfigMapping(prefix = "buildfarm.agent")
public interface AgentSettings {

    /** Name reported on claims; defaults to the host name. */
    Optional<String> name();

    /** The agent's token for the controller (an AGENT token); see ControllerToken. */
    Optional<String> token();

    /** A file holding that token, read at start when token is not set. */
    Optional<String> tokenFile();

    /** Platforms offered, e.g. linux/amd64,linux/arm/v7. Each is probed before it is served. */
    List<String> platforms();

    /** Multi-arch image used by the platform probe. */
    String probeImage();

    Path workDir();

    String dockerHost();

    Duration heartbeatInterval();

    Duration logFlushInterval();

    /** Log lines sent to the controller and not yet acknowledged as stored, at most (serialized bytes). */
    @WithDefault("8M")
    MemorySize logWindow();

    /**
     * Images are pushed to host/STAGING/path of the target repository; the assembler copies them
     * into the target by digest, so the target only gains the index and its tags.
     */
    @WithDefault("buildfarm-staging")
    String stagingNamespace();

    /**
     * How long a finished build's result is offered to a controller that cannot be reached (down,
     * restarting) before the agent gives it up; the controller's lease then decides.
     */
    @WithDefault("10m")
    Duration resultRetention();

    /**
     * Builds run at once per platform, e.g. {@code buildfarm.agent.slots."linux/amd64"=2}; a platform
     * not named here runs one at a time. A slot more than the job topic's partitions stays idle.
     */
    Map<String, Integer> slots();

    /** Only run platforms natively (refuse QEMU) when false. */
    @WithDefault("true")
    boolean allowEmulation();
}
