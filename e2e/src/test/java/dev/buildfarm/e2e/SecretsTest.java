package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildEvent;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.WatchBuildsRequest;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A canary secret, new each run, given as a secret build argument that the Dockerfile echoes: the
 * image gets the real value, and the value (also in base64 and URL-encoded) is nowhere else a user or
 * operator could look: logs, API answers, events, Kafka, the database, the services' log files.
 */
class SecretsTest {

    private static final String PLATFORM = "linux/amd64";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void aSecretBuildArgumentReachesTheBuildAndNothingElse() throws Exception {
        String canary = "canary-" + UUID.randomUUID();
        List<String> forms = forms(canary);
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", """
                FROM 127.0.0.1:5000/library/busybox:latest
                ARG CANARY
                ARG VERSION
                RUN echo "canary=$CANARY version=$VERSION" && echo -n "$CANARY" | base64
                RUN echo "$CANARY" | sha256sum | cut -d' ' -f1 > /canary.sha256
                CMD ["cat", "/canary.sha256"]
                """));

        List<BuildEvent> watched = Collections.synchronizedList(new ArrayList<>());
        Context.CancellableContext watch = Context.current().withCancellation();
        watch.run(() -> BuildServiceGrpc.newStub(Farm.channel()).watchBuilds(WatchBuildsRequest.getDefaultInstance(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(BuildEvent event) {
                        watched.add(event);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
        Thread.sleep(1_000);

        String image = Farm.REGISTRY + "/e2e/secrets";
        String tag = "run-" + UUID.randomUUID().toString().substring(0, 8);
        Build submitted = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("secrets-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addPlatforms(PLATFORM)
                        .setRepository(image).addTags(tag)
                        .putBuildArgs("VERSION", "1.0")
                        .putSecretBuildArgs("CANARY", canary))
                .build());
        assertThat(submitted.getSpec().getSecretBuildArgsMap()).containsExactly(Map.entry("CANARY", "****"));
        Build finished = Farm.awaitFinal(submitted.getName(), Duration.ofMinutes(5));
        assertThat(finished.getState()).as(finished.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);

        // The build saw the real value: the image holds its hash.
        String expectedHash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                .digest((canary + "\n").getBytes(StandardCharsets.UTF_8)));
        assertThat(Docker.pullAndRun(PLATFORM, image + ":" + tag)).isEqualTo(expectedHash);
        // As the README warns: the classic builder records build arguments in the image's history.
        assertThat(Docker.run("history", "--no-trunc", image + ":" + tag)).contains("CANARY=" + canary);

        // Its log: the echoed line is there, the value is not.
        List<String> log = new ArrayList<>();
        BuildServiceGrpc.newBlockingStub(Farm.channel()).withDeadlineAfter(1, TimeUnit.MINUTES)
                .streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(submitted.getName()).build())
                .forEachRemaining((LogChunk chunk) -> chunk.getLinesList().stream()
                        .map(line -> line.getStage() + " | " + line.getText()).forEach(log::add));
        String step = "Step 4/6 : RUN echo \"canary=$CANARY version=$VERSION\" && echo -n \"$CANARY\" | base64 | ";
        assertThat(log).as("the step's output, the value and its base64 masked")
                .anyMatch(line -> line.startsWith(step) && line.contains("canary=**** version=1.0"))
                .anyMatch(line -> line.startsWith(step) && line.strip().endsWith("| ****"));
        assertNowhere("StreamBuildLogs", String.join("\n", log), forms);

        // API answers: gRPC and the dashboard's JSON.
        String id = submitted.getName().substring("builds/".length());
        assertNowhere("GetBuild", Farm.builds().getBuild(GetBuildRequest.newBuilder().setName(submitted.getName()).build()).toString(), forms);
        assertNowhere("ListBuilds", Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setRepository(image).build()).toString(), forms);
        for (String path : List.of("builds", "builds/" + id, "builds/" + id + "/logs?platform=" + URLEncoder.encode(PLATFORM, StandardCharsets.UTF_8))) {
            assertNowhere("dashboard " + path, get("http://" + Farm.HTTP + "/dashboard/api/" + path), forms);
        }

        // The watch stream, once it has the last event of the build.
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> watched.stream()
                .anyMatch(e -> e.getSubject().equals(submitted.getName()) && e.getType().equals("dev.buildfarm.build.succeeded.v1")));
        watch.cancel(null);
        assertThat(watched.stream().filter(e -> e.getSubject().equals(submitted.getName()))
                .map(e -> e.getBuild().getSpec().getSecretBuildArgsMap()).distinct().toList())
                .containsExactly(Map.of("CANARY", "****"));
        synchronized (watched) {
            assertNowhere("WatchBuilds", watched.toString(), forms);
        }

        assertNowhere("Kafka", kafkaTopics(), forms);
        assertNowhere("pg_dump", pgDump(), forms);
        Path logs = stackDir().resolve("logs");
        try (Stream<Path> files = Files.list(logs)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                assertNowhere(file.toString(), new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1), forms);
            }
        }
    }

    /** The value and the encodings a redaction must also catch. */
    private static List<String> forms(String value) {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        return List.of(value, Base64.getEncoder().withoutPadding().encodeToString(bytes),
                URLEncoder.encode(value, StandardCharsets.UTF_8));
    }

    private static void assertNowhere(String where, String text, List<String> forms) {
        assertThat(text).as(where).isNotNull();
        for (String form : forms) {
            assertThat(text.contains(form)).as(where + " contains the canary (" + form + ")").isFalse();
        }
    }

    private static String get(String url) throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .header("Authorization", "Bearer " + Farm.TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(url).isEqualTo(200);
        return response.body();
    }

    /** Every record of the farm's topics (jobs and events), read by a fresh consumer from the beginning. */
    private static String kafkaTopics() throws Exception {
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
    private static String pgDump() throws Exception {
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
            String text = Files.readString(out, StandardCharsets.ISO_8859_1);
            assertThat(text).as("the dump holds the build").contains("****");
            return text;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    private static int major(Path bin) {
        try {
            return Integer.parseInt(bin.getParent().getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    private static Path stackDir() {
        String configured = System.getenv("BUILDFARM_STACK_DIR");
        return configured != null ? Path.of(configured) : Farm.GIT_BASE.getParent();
    }
}
