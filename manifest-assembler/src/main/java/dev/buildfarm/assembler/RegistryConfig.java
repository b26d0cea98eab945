package dev.buildfarm.assembler;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/** buildfarm.registry.* — how the assembler talks to registries (env: BUILDFARM_REGISTRY_INSECURE, ...). */
@ConfigMapping(prefix = "buildfarm.registry")
public interface RegistryConfig {
    /** host:port entries reached over plain HTTP; every other registry over HTTPS. */
    @WithDefault("127.0.0.1:5000,localhost:5000,127.0.0.1:5002")
    Set<String> insecure();

    /** Tries per registry request, the first included, before the registry counts as unavailable. */
    @WithDefault("5")
    int maxAttempts();

    /** Wait before the first retry; doubles with every further one. */
    @WithDefault("200ms")
    Duration initialBackoff();

    /** Upper bound of one wait between tries, Retry-After included. */
    @WithDefault("5s")
    Duration maxBackoff();

    @WithDefault("5s")
    Duration connectTimeout();

    @WithDefault("60s")
    Duration requestTimeout();

    /**
     * A Docker config.json (`auths`) with logins for registries whose builds' namespaces hold no
     * credential of their own, e.g. a mounted Kubernetes dockerconfigjson secret. Unset: none.
     */
    Optional<Path> dockerConfig();
}
