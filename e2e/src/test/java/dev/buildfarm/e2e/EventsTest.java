package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildEvent;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Context;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** What a dashboard sees: a build's whole event sequence, in order, on Kafka and on the watch stream. */
class EventsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anIndependentConsumerAndAWatcherSeeEveryStateChangeInOrder() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", "FROM 127.0.0.1:5000/library/busybox:latest\nRUN echo hi\n"));

        Properties config = new Properties();
        config.put("bootstrap.servers", Farm.KAFKA);
        try (KafkaConsumer<String, byte[]> kafka = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = kafka.partitionsFor("buildfarm.events").stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            kafka.assign(partitions);
            kafka.seekToEnd(partitions);
            partitions.forEach(kafka::position);

            List<BuildEvent> watched = Collections.synchronizedList(new ArrayList<>());
            Context.CancellableContext watch = Farm.watchBuilds(watched::add);
            Thread.sleep(1_000);

            Build build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                    .setRequestId("events-" + UUID.randomUUID())
                    .setSpec(BuildSpec.newBuilder()
                            .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                            .addPlatforms("linux/amd64").addPlatforms("linux/arm/v7")
                            .setRepository(Farm.REGISTRY + "/e2e/events")
                            .addTags("latest"))
                    .build());
            Build finished = Farm.awaitFinal(build.getName(), Duration.ofMinutes(10));
            assertThat(finished.getState()).isEqualTo(Build.State.SUCCEEDED);

            List<JsonNode> events = new ArrayList<>();
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                for (ConsumerRecord<String, byte[]> record : kafka.poll(Duration.ofMillis(500))) {
                    if (!build.getName().equals(record.key())) {
                        continue;
                    }
                    assertThat(new String(record.headers().lastHeader("content-type").value(), StandardCharsets.UTF_8))
                            .startsWith("application/cloudevents+json");
                    events.add(JSON.readTree(record.value()));
                }
                return events.stream().anyMatch(e -> e.path("type").asText().equals("dev.buildfarm.build.succeeded.v1"));
            });

            for (JsonNode event : events) {
                assertThat(event.path("specversion").asText()).isEqualTo("1.0");
                assertThat(event.path("subject").asText()).isEqualTo(build.getName());
                assertThat(event.path("source").asText()).isEqualTo("/buildfarm/controller");
                assertThat(event.path("data").path("build").path("name").asText()).isEqualTo(build.getName());
            }
            List<String> buildTypes = events.stream().map(e -> e.path("type").asText())
                    .filter(t -> t.startsWith("dev.buildfarm.build.")).toList();
            assertThat(buildTypes).containsExactly(
                    "dev.buildfarm.build.queued.v1", "dev.buildfarm.build.running.v1",
                    "dev.buildfarm.build.publishing.v1", "dev.buildfarm.build.succeeded.v1");
            for (String platform : List.of("linux/amd64", "linux/arm/v7")) {
                assertThat(events.stream().filter(e -> e.path("data").path("platform").asText().equals(platform))
                        .map(e -> e.path("type").asText()).toList())
                        .as(platform)
                        .containsExactly("dev.buildfarm.platform_build.running.v1", "dev.buildfarm.platform_build.succeeded.v1");
            }
            // The last event carries the published index.
            assertThat(events.get(events.size() - 1).path("data").path("build").path("indexDigest").asText())
                    .isEqualTo(finished.getIndexDigest());

            // The watch stream delivered the same events, in the same order.
            Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> watched.stream()
                    .filter(e -> e.getSubject().equals(build.getName())).count() == events.size());
            assertThat(watched.stream().filter(e -> e.getSubject().equals(build.getName())).map(BuildEvent::getId).toList())
                    .containsExactlyElementsOf(events.stream().map(e -> e.path("id").asText()).toList());
            watch.cancel(null);
        }
    }
}
