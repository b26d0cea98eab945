package dev.buildfarm.agent.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.zerodep.ZerodepDockerHttpClient;
import dev.buildfarm.agent.AgentSettings;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import java.io.IOException;
import java.time.Duration;

/** The local Docker engine, through docker-java. */
@ApplicationScoped
public class DockerClients {

    @Produces
    @ApplicationScoped
    DockerClient docker(AgentSettings settings) {
        DefaultDockerClientConfig config = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(settings.dockerHost())
                .build();
        ZerodepDockerHttpClient http = new ZerodepDockerHttpClient.Builder()
                .dockerHost(config.getDockerHost())
                .maxConnections(32)
                .connectionTimeout(Duration.ofSeconds(10))
                // Builds stream for as long as they run.
                .responseTimeout(Duration.ZERO)
                .build();
        return DockerClientImpl.getInstance(config, http);
    }

    void close(@Disposes DockerClient docker) throws IOException {
        docker.close();
    }
}
