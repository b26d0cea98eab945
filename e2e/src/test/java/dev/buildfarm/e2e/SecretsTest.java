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
import io.grpc.Context;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A canary secret, new each run, given as a secret build argument that the Dockerfile echoes: the
 * image gets the real value, and the value (also in base64 and URL-encoded) is nowhere else a user or
 * operator could look: logs, API answers, events, Kafka, the database, the services' log files.
 */
class SecretsTest {

    private static final String PLATFORM = "linux/amd64";

    @Test
    void aSecretBuildArgumentReachesTheBuildAndNothingElse() throws Exception {
        String canary = "canary-" + UUID.randomUUID();
        List<String> forms = Canary.forms(canary);
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", """
                FROM 127.0.0.1:5000/library/busybox:latest
                ARG CANARY
                ARG VERSION
                RUN echo "canary=$CANARY version=$VERSION" && echo -n "$CANARY" | base64
                RUN echo "$CANARY" | sha256sum | cut -d' ' -f1 > /canary.sha256
                CMD ["cat", "/canary.sha256"]
                """));

        List<BuildEvent> watched = Collections.synchronizedList(new ArrayList<>());
        Context.CancellableContext watch = Farm.watchBuilds(watched::add);
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
        Canary.assertNowhere("StreamBuildLogs", String.join("\n", log), forms);

        // API answers: gRPC and the dashboard's JSON.
        String id = submitted.getName().substring("builds/".length());
        Canary.assertNowhere("GetBuild", Farm.builds().getBuild(GetBuildRequest.newBuilder().setName(submitted.getName()).build()).toString(), forms);
        Canary.assertNowhere("ListBuilds", Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setRepository(image).build()).toString(), forms);
        for (String path : List.of("builds", "builds/" + id, "builds/" + id + "/logs?platform=" + URLEncoder.encode(PLATFORM, StandardCharsets.UTF_8))) {
            Canary.assertNowhere("dashboard " + path, Canary.get("http://" + Farm.HTTP + "/dashboard/api/" + path), forms);
        }

        // The watch stream, once it has the last event of the build.
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> watched.stream()
                .anyMatch(e -> e.getSubject().equals(submitted.getName()) && e.getType().equals("dev.buildfarm.build.succeeded.v1")));
        watch.cancel(null);
        assertThat(watched.stream().filter(e -> e.getSubject().equals(submitted.getName()))
                .map(e -> e.getBuild().getSpec().getSecretBuildArgsMap()).distinct().toList())
                .containsExactly(Map.of("CANARY", "****"));
        synchronized (watched) {
            Canary.assertNowhere("WatchBuilds", watched.toString(), forms);
        }

        Canary.assertNowhere("Kafka", Canary.kafkaTopics(), forms);
        String dump = Canary.pgDump();
        assertThat(dump).as("the dump holds the build").contains("****");
        Canary.assertNowhere("pg_dump", dump, forms);
        Canary.assertNotInServiceLogs(forms);
    }
}
