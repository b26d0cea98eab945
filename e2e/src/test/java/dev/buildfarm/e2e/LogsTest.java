package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Live logs as a user follows them: every line, in order, once; a late watcher gets replay then tail. */
class LogsTest {

    private static final int LINES = 1500;
    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");
    private static final String DOCKERFILE = """
            FROM 127.0.0.1:5000/library/busybox:latest
            RUN i=1; m=$(uname -m); while [ $i -le %d ]; do echo "line $i of $m"; i=$((i+1)); done
            RUN echo done
            """.formatted(LINES);

    /** Collects a whole log stream. */
    static final class Collector implements StreamObserver<LogChunk> {
        final List<BuildLogLine> lines = Collections.synchronizedList(new ArrayList<>());
        final CompletableFuture<Void> done = new CompletableFuture<>();

        @Override
        public void onNext(LogChunk chunk) {
            lines.addAll(chunk.getLinesList());
        }

        @Override
        public void onError(Throwable t) {
            done.completeExceptionally(t);
        }

        @Override
        public void onCompleted() {
            done.complete(null);
        }

        List<BuildLogLine> of(String platform) {
            synchronized (lines) {
                return lines.stream().filter(l -> l.getPlatform().equals(platform)).toList();
            }
        }
    }

    private static Build build;
    private static Collector first;
    private static Collector late;

    @BeforeAll
    static void followAChattyBuild() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", DOCKERFILE));
        build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("logs-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addAllPlatforms(PLATFORMS)
                        .setRepository(Farm.REGISTRY + "/e2e/logs-" + UUID.randomUUID().toString().substring(0, 8))
                        .addTags("latest")
                        // A cached RUN prints nothing: without this a second run on the same engine has no lines.
                        .setNoCache(true))
                .build());
        BuildServiceGrpc.BuildServiceStub async = BuildServiceGrpc.newStub(Farm.channel());
        first = new Collector();
        async.streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(build.getName()).setFollow(true).build(), first);
        // A second watcher joins mid-build: it must get the replay, then the live tail.
        Awaitility.await().atMost(Duration.ofMinutes(10)).until(() -> first.lines.size() >= 200);
        late = new Collector();
        async.streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(build.getName()).setFollow(true).build(), late);

        first.done.get(15, TimeUnit.MINUTES);
        late.done.get(5, TimeUnit.MINUTES);
        build = Farm.awaitFinal(build.getName(), Duration.ofMinutes(5));
    }

    @Test
    void theFollowerReceivesEveryLineOfEveryPlatformInOrderOnce() {
        assertThat(build.getState()).as(build.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        for (String platform : PLATFORMS) {
            List<BuildLogLine> lines = first.of(platform);
            assertThat(lines).extracting(BuildLogLine::getOffset)
                    .as("offsets of %s run from 0 without gaps or repeats", platform)
                    .containsExactlyElementsOf(IntStream.range(0, lines.size()).mapToObj(i -> (long) i).toList());
            List<String> counted = lines.stream().map(BuildLogLine::getText).filter(t -> t.startsWith("line ")).toList();
            assertThat(counted).hasSize(LINES);
            for (int i = 0; i < LINES; i++) {
                assertThat(counted.get(i)).startsWith("line " + (i + 1) + " of ");
            }
        }
    }

    @Test
    void linesCarryTheirDockerfileStep() {
        List<BuildLogLine> lines = first.of("linux/arm/v7");
        assertThat(lines).filteredOn(l -> l.getText().startsWith("line "))
                .allSatisfy(l -> assertThat(l.getStage()).startsWith("Step 2/3 : RUN i=1;"));
        assertThat(lines).filteredOn(l -> l.getText().startsWith("pushed "))
                .allSatisfy(l -> assertThat(l.getStage()).isEqualTo("push"));
        assertThat(lines).filteredOn(l -> l.getText().startsWith("building builds/"))
                .allSatisfy(l -> assertThat(l.getStage()).isEqualTo("checkout"));
    }

    @Test
    void aWatcherThatJoinsLateGetsTheSameLog() {
        for (String platform : PLATFORMS) {
            assertThat(late.of(platform)).isEqualTo(first.of(platform));
        }
    }

    @Test
    void replayFromAnOffsetOfOnePlatform() {
        List<BuildLogLine> all = first.of("linux/arm64");
        List<BuildLogLine> tail = new ArrayList<>();
        Farm.builds().streamBuildLogs(StreamBuildLogsRequest.newBuilder()
                .setName(build.getName()).setPlatform("aarch64").setOffset(100).build())
                .forEachRemaining(chunk -> tail.addAll(chunk.getLinesList()));
        assertThat(tail).isEqualTo(all.subList(100, all.size()));

        List<BuildLogLine> pastTheEnd = new ArrayList<>();
        Farm.builds().streamBuildLogs(StreamBuildLogsRequest.newBuilder()
                .setName(build.getName()).setOffset(1_000_000).build())
                .forEachRemaining(chunk -> pastTheEnd.addAll(chunk.getLinesList()));
        assertThat(pastTheEnd).isEmpty();
    }

    @Test
    void badRequests() {
        assertThatThrownBy(() -> Farm.builds().streamBuildLogs(StreamBuildLogsRequest.newBuilder()
                .setName("builds/" + UUID.randomUUID()).build()).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> Farm.builds().streamBuildLogs(StreamBuildLogsRequest.newBuilder()
                .setName(build.getName()).setOffset(-1).build()).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("offset");
                });
        assertThatThrownBy(() -> Farm.builds().streamBuildLogs(StreamBuildLogsRequest.newBuilder()
                .setName(build.getName()).setPlatform("windows/amd64").build()).hasNext())
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription()).contains("platform"));
    }
}
