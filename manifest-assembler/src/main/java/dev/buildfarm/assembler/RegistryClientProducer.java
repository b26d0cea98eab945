package dev.buildfarm.assembler;

import dev.buildfarm.assembler.registry.RegistryClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

/** The registry client is plain Java (tests build their own); this is where it meets configuration. */
@ApplicationScoped
public class RegistryClientProducer {
    @Produces
    @ApplicationScoped
    RegistryClient registryClient(RegistryConfig config) {
        return new RegistryClient(new RegistryClient.Settings(config.insecure(), config.maxAttempts(),
                config.initialBackoff(), config.maxBackoff(), config.connectTimeout(), config.requestTimeout()));
    }

    @Produces
    @ApplicationScoped
    RegistryLogins registryLogins(RegistryConfig config) {
        return new RegistryLogins(config.dockerConfig());
    }
}
