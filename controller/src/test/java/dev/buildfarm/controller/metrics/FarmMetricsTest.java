package dev.buildfarm.controller.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.build.BuildStore;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/** What Prometheus scrapes from the controller: series an operator alerts on exist before anything happens. */
@QuarkusTest
class FarmMetricsTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Inject
    BuildStore store;

    @Test
    void aWaitingJobShowsHowLongItWaitsAndCountersStartAtZero() throws Exception {
        store.create("", BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("c".repeat(40)))
                .addPlatforms("linux/arm/v6").setRepository("127.0.0.1:5000/metrics/test").addTags("latest")
                .setDockerfileName("Dockerfile").build(), "c".repeat(40), Trigger.newBuilder().setKind(Trigger.Kind.API).build());

        // Gauges are refreshed at most every 5 s.
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        double oldest = 0;
        List<String> lines = List.of();
        while (oldest <= 0 && System.nanoTime() < deadline) {
            Thread.sleep(500);
            lines = scrape();
            oldest = value(lines, "buildfarm_queue_oldest_seconds{platform=\"linux/arm/v6\"}").orElse(0.0);
        }
        assertThat(oldest).as("the oldest arm/v6 job's wait").isPositive();
        assertThat(value(lines, "buildfarm_queue_depth{platform=\"linux/arm/v6\"}")).hasValueSatisfying(v -> assertThat(v).isPositive());
        for (String platform : List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6")) {
            assertThat(value(lines, "buildfarm_lease_expiries_total{platform=\"" + platform + "\"}")).as(platform).isPresent();
            assertThat(value(lines, "buildfarm_log_bytes_total{platform=\"" + platform + "\"}")).as(platform).isPresent();
            assertThat(value(lines, "buildfarm_agents{platform=\"" + platform + "\",state=\"lost\"}")).as(platform).isPresent();
        }
    }

    private static List<String> scrape() throws Exception {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body().lines().filter(l -> !l.startsWith("#")).toList();
    }

    private static Optional<Double> value(List<String> lines, String series) {
        return lines.stream().filter(l -> l.startsWith(series + " "))
                .map(l -> Double.parseDouble(l.substring(series.length() + 1))).findFirst();
    }
}
