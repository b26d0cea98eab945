package dev.buildfarm.assembler;

import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.assembler.registry.RegistryClient;
import dev.buildfarm.common.DockerConfig;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;

/**
 * The logins a publication answers registries with: the build's own credential (handed in the
 * request) for its registry, else the operator's Docker config.json (buildfarm.registry.docker-config),
 * read anew each publication so a rotated secret applies at once.
 */
public class RegistryLogins {

    private final Optional<Path> dockerConfig;

    public RegistryLogins(Optional<Path> dockerConfig) {
        this.dockerConfig = dockerConfig;
        // A configured file that cannot be read is an operator's mistake: fail at start.
        dockerConfig.ifPresent(DockerConfig::read);
    }

    public static RegistryLogins none() {
        return new RegistryLogins(Optional.empty());
    }

    /** Whether a Docker config.json is configured. */
    public boolean configured() {
        return dockerConfig.isPresent();
    }

    public Function<String, Optional<RegistryClient.Login>> forPublication(Optional<RegistryAuth> handed) {
        DockerConfig config = dockerConfig.map(DockerConfig::read).orElseGet(DockerConfig::empty);
        return host -> {
            String registry = host.toLowerCase(Locale.ROOT);
            Optional<RegistryClient.Login> own = handed.filter(a -> a.getRegistry().equalsIgnoreCase(registry))
                    .map(a -> new RegistryClient.Login(a.getUsername(), a.getPassword()));
            return own.isPresent() ? own : config.forRegistry(registry).map(l -> new RegistryClient.Login(l.username(), l.password()));
        };
    }
}
