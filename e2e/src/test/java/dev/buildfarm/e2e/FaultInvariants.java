package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.common.Platform;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;

/**
 * What every fault case must leave true, checked the way an outsider can:
 * <ol>
 *   <li>every accepted build reaches a terminal state;</li>
 *   <li>each platform has at most one winning attempt: at most one {@code platform_build.succeeded}
 *       event per platform on {@code buildfarm.events} (duplicates of one event, by id, count once), and
 *       the build's digest for the platform is that event's;</li>
 *   <li>every published tag resolves to an OCI index whose children all exist in the registry, read
 *       back with the digest they are named by, whose config blob (digest verified) says the child's
 *       platform, one child per platform that succeeded; a build that did not succeed left no tag.</li>
 * </ol>
 */
final class FaultInvariants implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<Build.State> TERMINAL = Set.of(Build.State.SUCCEEDED, Build.State.FAILED, Build.State.CANCELLED);

    /** Events by build name, each by its CloudEvents id. */
    private final Map<String, Map<String, JsonNode>> events = new ConcurrentHashMap<>();
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread reader;
    private volatile boolean open = true;

    /** Starts reading buildfarm.events of the fault farm from its beginning (it survives broker restarts). */
    FaultInvariants() {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Farm.KAFKA);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, "fault-invariants-" + System.nanoTime());
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of("buildfarm.events"));
        reader = new Thread(this::read, "fault-invariants-events");
        reader.setDaemon(true);
        reader.start();
    }

    private void read() {
        try {
            while (open) {
                try {
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                        JsonNode event = JSON.readTree(record.value());
                        String build = event.path("data").path("build").path("name").asText(event.path("subject").asText());
                        events.computeIfAbsent(build, b -> new ConcurrentHashMap<>()).put(event.path("id").asText(), event);
                    }
                } catch (WakeupException e) {
                    throw e;
                } catch (Exception e) {
                    // The broker may be down (a fault case): keep reading once it is back.
                    sleep(500);
                }
            }
        } catch (WakeupException e) {
            // closed
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    /** Waits for the build to end, then checks all three invariants; answers the build as it ended. */
    Build check(String name, Duration timeout) throws Exception {
        Build done = Farm.awaitFinal(name, timeout);
        assertThat(TERMINAL).as("%s reached a terminal state", name).contains(done.getState());
        String path = done.getSpec().getRepository().substring(done.getSpec().getRepository().indexOf('/') + 1);
        // The outbox relays events after the change; the terminal one may lag behind the record.
        String finalType = "dev.buildfarm.build." + done.getState().name().toLowerCase() + ".v1";
        Awaitility.await(name + " " + finalType + " on buildfarm.events").atMost(Duration.ofSeconds(90))
                .pollInterval(Duration.ofMillis(250))
                .until(() -> eventsOf(name).stream().anyMatch(e -> e.path("type").asText().equals(finalType)));

        Map<String, List<JsonNode>> winners = new HashMap<>();
        for (JsonNode event : eventsOf(name)) {
            if (event.path("type").asText().equals("dev.buildfarm.platform_build.succeeded.v1")) {
                winners.computeIfAbsent(event.path("data").path("platform").asText(), p -> new ArrayList<>()).add(event);
            }
        }
        winners.forEach((platform, won) -> assertThat(won).as("winning attempts of %s in %s", platform, name).hasSize(1));

        Map<String, PlatformBuild> succeeded = new LinkedHashMap<>();
        for (PlatformBuild pb : done.getPlatformBuildsList()) {
            if (pb.getState() == Build.State.SUCCEEDED) {
                succeeded.put(pb.getPlatform(), pb);
                assertThat(winners.get(pb.getPlatform())).as("the succeeded event of %s", pb.getPlatform()).hasSize(1);
                JsonNode won = winners.get(pb.getPlatform()).get(0);
                assertThat(platformIn(won, pb.getPlatform()).path("digest").asText())
                        .as("digest of %s's winning attempt", pb.getPlatform()).isEqualTo(pb.getDigest());
            }
        }

        if (done.getState() != Build.State.SUCCEEDED) {
            assertThat(Registry.tags(path).path("tags")).as("tags of %s, which ended %s", path, done.getState()).isEmpty();
            return done;
        }
        for (String tag : done.getSpec().getTagsList()) {
            Registry.Document index = Registry.manifest(path, tag);
            assertThat(index).as("%s:%s", path, tag).isNotNull();
            assertThat(index.mediaType()).startsWith(Registry.OCI_INDEX);
            assertThat(index.digest()).as("%s:%s names the build's index", path, tag).isEqualTo(done.getIndexDigest());
            Map<String, String> children = new LinkedHashMap<>();
            for (JsonNode child : index.json().path("manifests")) {
                String platform = platformOf(child.path("platform"));
                String digest = child.path("digest").asText();
                assertThat(children.put(platform, digest)).as("%s listed once", platform).isNull();
                Registry.Document manifest = Registry.manifest(path, digest);
                assertThat(manifest).as("child %s %s exists", platform, digest).isNotNull();
                assertThat(manifest.digest()).as("child %s read back by its digest", platform).isEqualTo(digest);
                JsonNode config = Registry.blob(path, manifest.json().path("config").path("digest").asText());
                assertThat(platformOf(config)).as("config of child %s", digest).isEqualTo(platform);
            }
            assertThat(children).as("children of %s:%s", path, tag).isEqualTo(succeeded.entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().getDigest())));
        }
        return done;
    }

    List<JsonNode> eventsOf(String build) {
        return new ArrayList<>(events.getOrDefault(build, Map.of()).values());
    }

    private static JsonNode platformIn(JsonNode event, String platform) {
        for (JsonNode pb : event.path("data").path("build").path("platformBuilds")) {
            if (pb.path("platform").asText().equals(platform)) {
                return pb;
            }
        }
        throw new AssertionError("event " + event.path("id") + " has no platform " + platform);
    }

    /** os/architecture[/variant] of an index entry or an image config, normalised (arm64/v8 is arm64). */
    private static String platformOf(JsonNode node) {
        String os = node.path("os").asText();
        String architecture = node.path("architecture").asText();
        String variant = node.path("variant").asText();
        return Platform.parse(variant.isEmpty() ? os + "/" + architecture : os + "/" + architecture + "/" + variant).toString();
    }

    @Override
    public void close() throws InterruptedException {
        open = false;
        consumer.wakeup();
        reader.join(5_000);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
