package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** What an operator scrapes: queue, agent and duration series per platform and mode, during a real build. */
class MetricsTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void queueAndDurationSeriesCarryPlatformAndMode() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile",
                "FROM 127.0.0.1:5000/library/busybox:latest\nRUN echo measured && sleep 2\n"));
        Build build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("metrics-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addPlatforms("linux/amd64").addPlatforms("linux/arm64")
                        .setRepository(Farm.REGISTRY + "/e2e/metrics")
                        .addTags("latest"))
                .build());

        // During the build.
        List<String> during = scrape(8080);
        assertThat(during).anyMatch(l -> l.startsWith("buildfarm_queue_depth{") && l.contains("platform=\"linux/arm64\""));
        assertThat(during).anyMatch(l -> l.startsWith("buildfarm_builds{") && l.contains("state=\"running\""));
        assertThat(during).anyMatch(l -> l.startsWith("buildfarm_queue_oldest_seconds{") && l.contains("platform=\"linux/arm64\""));
        // The one agent serves every platform: it is counted once per platform, idle or busy.
        assertThat(count(during, "buildfarm_agents", "platform=\"linux/arm64\"", "state=\"idle\"")
                + count(during, "buildfarm_agents", "platform=\"linux/arm64\"", "state=\"busy\"")).isGreaterThanOrEqualTo(1);
        // Counters are there from the start, so an alert on their rate needs no first event.
        assertThat(during).anyMatch(l -> l.startsWith("buildfarm_lease_expiries_total{") && l.contains("platform=\"linux/arm/v6\""));
        List<String> agent = scrape(8081);
        assertThat(agent).anyMatch(l -> l.startsWith("buildfarm_agent_platforms{") && l.contains("mode=\"emulated\"")
                && l.contains("platform=\"linux/arm64\"") && l.endsWith(" 1.0"));

        Build done = Farm.awaitFinal(build.getName(), Duration.ofMinutes(10));
        assertThat(done.getState()).isEqualTo(Build.State.SUCCEEDED);
        List<String> after = scrape(8080);
        assertThat(count(after, "buildfarm_build_duration_seconds_count", "platform=\"linux/arm64\"", "mode=\"emulated\"", "state=\"succeeded\""))
                .isGreaterThanOrEqualTo(1);
        assertThat(count(after, "buildfarm_build_duration_seconds_count", "platform=\"linux/amd64\"", "mode=\"native\"", "state=\"succeeded\""))
                .isGreaterThanOrEqualTo(1);
        assertThat(count(after, "buildfarm_queue_wait_seconds_count", "platform=\"linux/amd64\"", "mode=\"native\""))
                .isGreaterThanOrEqualTo(1);
        assertThat(count(after, "buildfarm_log_bytes_total", "platform=\"linux/arm64\"")).isPositive();
    }

    private static List<String> scrape(int port) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body().lines().filter(l -> !l.startsWith("#")).toList();
    }

    /** The value of the series with this name and these labels (0 when absent). */
    private static double count(List<String> lines, String name, String... labels) {
        return lines.stream()
                .filter(l -> l.startsWith(name + "{") && List.of(labels).stream().allMatch(l::contains))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
    }
}
