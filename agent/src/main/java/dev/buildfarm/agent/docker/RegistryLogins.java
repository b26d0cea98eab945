package dev.buildfarm.agent.docker;

import com.github.dockerjava.api.model.AuthConfig;
import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.common.DockerConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Which login the engine is given for a registry: the one the claim handed (the build's namespace
 * credential for its target registry) wins; otherwise the operator's Docker config.json
 * ({@code buildfarm.registry.docker-config}), read anew each time so a rotated secret applies at once.
 */
@ApplicationScoped
public class RegistryLogins {

    private static final Logger LOG = Logger.getLogger(RegistryLogins.class);

    @ConfigProperty(name = "buildfarm.registry.docker-config")
    Optional<Path> dockerConfig;

    void onStart(@Observes StartupEvent event) {
        // A configured file that cannot be read is an operator's mistake: say so at start.
        dockerConfig.ifPresent(file -> LOG.infof("registry logins from %s: %d registries", file, DockerConfig.read(file).size()));
    }

    /** A login for {@code registry} (host[:port]), or empty when there is none: the engine then goes anonymous. */
    public Optional<Login> forRegistry(String registry, Optional<RegistryAuth> handed) {
        String host = registry.toLowerCase(Locale.ROOT);
        Optional<Login> fromClaim = handed.filter(a -> a.getRegistry().equalsIgnoreCase(host))
                .map(a -> new Login(host, a.getUsername(), a.getPassword(), "the build's namespace"));
        if (fromClaim.isPresent() || dockerConfig.isEmpty()) {
            return fromClaim;
        }
        return DockerConfig.read(dockerConfig.get()).forRegistry(host)
                .map(l -> new Login(host, l.username(), l.password(), "the agent's Docker config"));
    }

    /** A login and where it came from (for messages: never the password). */
    public record Login(String registry, String username, String password, String source) {

        public AuthConfig authConfig() {
            return new AuthConfig().withRegistryAddress(registry).withUsername(username).withPassword(password);
        }

        @Override
        public String toString() {
            return "Login[" + registry + ", " + username + ", from " + source + "]";
        }
    }

    /** The host[:port] of a repository or image reference ("127.0.0.1:5002/team/app:1" → "127.0.0.1:5002"). */
    public static String registryOf(String reference) {
        int slash = reference.indexOf('/');
        String first = slash < 0 ? "" : reference.substring(0, slash);
        // As Docker reads references: the first component is a host only with a '.' or ':', or localhost.
        if (first.contains(".") || first.contains(":") || first.equals("localhost")) {
            return first;
        }
        return "docker.io";
    }
}
