package dev.buildfarm.agent;

import dev.buildfarm.agent.jobs.Agent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready once the probe has found at least one platform to serve; lists them. */
@Readiness
@ApplicationScoped
public class AgentReadiness implements HealthCheck {

    @Inject
    Agent agent;

    @Override
    public HealthCheckResponse call() {
        var builder = HealthCheckResponse.named("platforms").status(!agent.served().isEmpty());
        agent.served().forEach((platform, mode) -> builder.withData(platform.toString(), mode.name().toLowerCase()));
        return builder.build();
    }
}
