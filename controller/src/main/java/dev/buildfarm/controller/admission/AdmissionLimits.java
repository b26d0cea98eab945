package dev.buildfarm.controller.admission;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.Config;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The admission settings: jobs in flight per platform and per namespace, and the submit rate per
 * namespace, each with per-platform or per-namespace overrides
 * ({@code buildfarm.admission.platform-limit."linux-arm64"=8}, {@code buildfarm.admission.namespace-limit."team-a"=2}).
 */
@ApplicationScoped
public class AdmissionLimits {

    @Inject
    Config config;

    @ConfigProperty(name = "buildfarm.admission.platform-limit", defaultValue = "32")
    int platformLimit;

    @ConfigProperty(name = "buildfarm.admission.namespace-limit", defaultValue = "8")
    int namespaceLimit;

    @ConfigProperty(name = "buildfarm.admission.submit-rate", defaultValue = "20")
    double submitRate;

    @ConfigProperty(name = "buildfarm.admission.submit-burst", defaultValue = "100")
    int submitBurst;

    private final Map<String, Integer> platformLimits = new ConcurrentHashMap<>();
    private final Map<String, Integer> namespaceLimits = new ConcurrentHashMap<>();

    /** @param platform as stored, "linux/arm64"; its override is keyed by the slug, "linux-arm64" */
    public int platformLimit(String platform) {
        return platformLimits.computeIfAbsent(platform,
                p -> override("buildfarm.admission.platform-limit", p.replace('/', '-'), Integer.class).orElse(platformLimit));
    }

    public int namespaceLimit(String namespace) {
        return namespaceLimits.computeIfAbsent(namespace,
                n -> override("buildfarm.admission.namespace-limit", n, Integer.class).orElse(namespaceLimit));
    }

    public double submitRate(String namespace) {
        return override("buildfarm.admission.submit-rate", namespace, Double.class).orElse(submitRate);
    }

    public int submitBurst(String namespace) {
        return override("buildfarm.admission.submit-burst", namespace, Integer.class).orElse(submitBurst);
    }

    /** The largest namespace limit that can apply: how many waiting jobs of one namespace a pass needs to look at. */
    int largestNamespaceLimit() {
        int largest = namespaceLimit;
        for (String name : config.getPropertyNames()) {
            if (name.startsWith("buildfarm.admission.namespace-limit.")) {
                largest = Math.max(largest, config.getOptionalValue(name, Integer.class).orElse(0));
            }
        }
        return largest;
    }

    private <T> Optional<T> override(String key, String name, Class<T> type) {
        if (name.isEmpty()) {
            return Optional.empty();
        }
        Optional<T> quoted = config.getOptionalValue(key + ".\"" + name + "\"", type);
        return quoted.isPresent() ? quoted : config.getOptionalValue(key + "." + name, type);
    }
}
