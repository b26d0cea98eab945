package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/**
 * Where a secret must never show: the places a user or operator can look (API answers aside, which
 * each test reads itself): every Kafka record of the farm, a dump of its database, the stack's logs.
 */
final class Canary {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private Canary() {
    }

    /** The value and the encodings a redaction must also catch. */
    static List<String> forms(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        return List.of(value, Base64.getEncoder().withoutPadding().encodeToString(bytes),
                URLEncoder.encode(value, StandardCharsets.UTF_8));
    }

    static void assertNowhere(String where, String text, List<String> forms) {
        assertThat(text).as(where).isNotNull();
        for (String form : forms) {
            assertThat(text.contains(form)).as(where + " contains the canary (" + form + ")").isFalse();
        }
    }

    static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + Farm.TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(url).isEqualTo(200);
        return response.body();
    }

    /** Every record of the farm's topics (jobs and events), read by a fresh consumer from the beginning. */
    static String kafkaTopics() throws Exception {
        StringBuilder all = new StringBuilder();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", Farm.KAFKA));
             KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", Farm.KAFKA),
                     new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<String> topics = admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
                    .filter(t -> t.startsWith("buildfarm.")).sorted().toList();
            assertThat(topics).contains("buildfarm.events", "buildfarm.jobs.linux-amd64");
            List<TopicPartition> partitions = topics.stream().flatMap(t -> consumer.partitionsFor(t).stream())
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long records = 0;
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
            while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
                assertThat(System.nanoTime()).as("reading the farm's topics").isLessThan(deadline);
                for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    records++;
                    if (record.key() != null) {
                        all.append(new String(record.key(), StandardCharsets.ISO_8859_1)).append(' ');
                    }
                    if (record.value() != null) {
                        all.append(new String(record.value(), StandardCharsets.ISO_8859_1));
                    }
                    record.headers().forEach(h -> all.append(' ').append(new String(h.value(), StandardCharsets.ISO_8859_1)));
                    all.append('\n');
                }
            }
            assertThat(records).as("records on the farm's topics").isPositive();
        }
        return all.toString();
    }

    /** A plain-text dump of the farm's database, by the stack's own PostgreSQL tools. */
    static String pgDump() throws Exception {
        Path bin;
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            // As dev/stack.sh picks it: the newest installed version.
            bin = versions.map(v -> v.resolve("bin")).filter(Files::isDirectory)
                    .max((a, b) -> Integer.compare(major(a), major(b))).orElseThrow();
        }
        String database = System.getenv().getOrDefault("BUILDFARM_DB", "buildfarm");
        ProcessBuilder dump = new ProcessBuilder(bin.resolve("pg_dump").toString(), "-h", "127.0.0.1", "-p", "5432",
                "-U", "buildfarm", "-d", database, "--no-owner");
        dump.environment().put("PGPASSWORD", "buildfarm");
        Path out = Files.createTempFile("farm", ".sql");
        try {
            Process process = dump.redirectErrorStream(false).redirectOutput(out.toFile()).start();
            assertThat(process.waitFor(2, TimeUnit.MINUTES)).as("pg_dump finished").isTrue();
            assertThat(process.exitValue()).as("pg_dump: " + new String(process.getErrorStream().readAllBytes())).isZero();
            return Files.readString(out, StandardCharsets.ISO_8859_1);
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static int major(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static Path stackDir() {
        String configured = System.getenv("BUILDFARM_STACK_DIR");
        return configured != null ? Path.of(configured) : Farm.GIT_BASE.getParent();
    }

    /** Every file the stack's services log to (controller, agent, assembler, registries, Kafka, ...). */
    static void assertNotInServiceLogs(List<String> forms) throws IOException {
        try (Stream<Path> files = Files.list(stackDir().resolve("logs"))) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertNowhere(file.toString(), new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1), forms);
            }
        }
    }
}
