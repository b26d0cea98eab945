package dev.buildfarm.controller.logs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.util.Timestamps;
import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.FinishJobRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.LogBatch;
import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.agent.AgentJobs;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildStore;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The live tail and the store together, over real gRPC: an agent pipelines batches on ShipLogs while
 * watchers join mid-stream. The tail is kept small here, so a watcher from offset 0 reads the store
 * first and the tail after; each must get every line exactly once, in order.
 */
@QuarkusTest
@TestProfile(LiveTailTest.SmallTail.class)
class LiveTailTest {

    public static class SmallTail implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("buildfarm.logs.live-tail-size", "64K");
        }
    }

    private static final int BATCHES = 40;
    private static final int PER_BATCH = 500;
    private static final long LINES = (long) BATCHES * PER_BATCH;

    @Inject
    AgentJobs jobs;

    @Inject
    BuildStore store;

    private final ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1",
            ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class)).usePlaintext().build();

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    /** One watcher's stream: the lines it got, and whether it ended. */
    private static final class Watcher implements StreamObserver<LogChunk> {
        final List<BuildLogLine> lines = Collections.synchronizedList(new ArrayList<>());
        final CountDownLatch done = new CountDownLatch(1);
        final AtomicReference<Throwable> error = new AtomicReference<>();

        @Override
        public void onNext(LogChunk chunk) {
            lines.addAll(chunk.getLinesList());
        }

        @Override
        public void onError(Throwable t) {
            error.set(t);
            done.countDown();
        }

        @Override
        public void onCompleted() {
            done.countDown();
        }
    }

    /** The stage of sequence s: it changes within every batch. */
    private static String stage(long s) {
        return (s - 1) % PER_BATCH < PER_BATCH / 2 ? "Step 1/2 : FROM busybox" : "Step 2/2 : RUN seq";
    }

    private static long readMicros(long s) {
        return 1_700_000_000_000_000L + s * 7;
    }

    /** Batch {@code index}: as columns (a LogBatch, as agents send) for odd indexes, else one LogLine per line. */
    private static AppendLogsRequest batch(String job, int attempt, int index) {
        AppendLogsRequest.Builder request = AppendLogsRequest.newBuilder().setJobId(job).setAttempt(attempt);
        long first = (long) index * PER_BATCH + 1;
        LogBatch.Builder columns = LogBatch.newBuilder().setFirstSequence(first);
        long micros = 0;
        for (long s = first; s <= (long) (index + 1) * PER_BATCH; s++) {
            if (index % 2 == 0) {
                request.addLines(LogLine.newBuilder().setSequence(s).setText("line " + s).setStage(stage(s))
                        .setTime(Timestamps.fromMicros(readMicros(s))));
                continue;
            }
            if (s == first || !stage(s).equals(stage(s - 1))) {
                columns.addStageStarts((int) (s - first)).addStages(stage(s));
            }
            columns.addTexts("line " + s).addReadMicros(readMicros(s) - micros);
            micros = readMicros(s);
        }
        return index % 2 == 0 ? request.build() : request.setBatch(columns).build();
    }

    @Test
    void aBatchWhoseColumnsDisagreeIsInvalid() {
        AgentServiceGrpc.AgentServiceBlockingStub agent = AgentServiceGrpc.newBlockingStub(channel);
        LogBatch.Builder columns = LogBatch.newBuilder().setFirstSequence(1).addTexts("a").addTexts("b").addReadMicros(5);
        AppendLogsRequest request = AppendLogsRequest.newBuilder().setJobId(java.util.UUID.randomUUID().toString())
                .setAttempt(1).setBatch(columns).build();
        assertThatThrownBy(() -> agent.appendLogs(request)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        AppendLogsRequest descending = request.toBuilder().setBatch(columns.addReadMicros(1)
                .addStageStarts(1).addStages("x").addStageStarts(0).addStages("y")).build();
        assertThatThrownBy(() -> agent.appendLogs(descending)).isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void watchersJoiningMidStreamGetEveryLineOnceInOrder() throws Exception {
        BuildEntity build = store.create("", BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("e".repeat(40)))
                .addPlatforms("linux/amd64").setRepository("127.0.0.1:5000/logs/live").addTags("latest")
                .setDockerfileName("Dockerfile").build(), "e".repeat(40), Trigger.newBuilder().setKind(Trigger.Kind.API).build());
        String job = build.platformBuilds.get(0).id.toString();
        int attempt = jobs.claim(job, "agent", false).attempt();

        AtomicLong acked = new AtomicLong();
        AgentServiceGrpc.AgentServiceStub agent = AgentServiceGrpc.newStub(channel);
        StreamObserver<AppendLogsRequest> ship = agent.shipLogs(new StreamObserver<>() {
            @Override
            public void onNext(AppendLogsResponse response) {
                acked.accumulateAndGet(response.getAckedSequence(), Math::max);
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        BuildServiceGrpc.BuildServiceStub builds = BuildServiceGrpc.newStub(channel);
        Watcher fromStart = new Watcher();
        Watcher fromMiddle = new Watcher();
        for (int i = 0; i < BATCHES; i++) {
            // A batch sent twice (as after a reconnect) is kept once.
            ship.onNext(batch(job, attempt, i));
            if (i % 10 == 3) {
                ship.onNext(batch(job, attempt, i));
            }
            if (i == BATCHES / 2) {
                builds.streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(build.name()).setPlatform("linux/amd64")
                        .setFollow(true).build(), fromStart);
                builds.streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(build.name()).setPlatform("linux/amd64")
                        .setOffset(LINES / 3).setFollow(true).build(), fromMiddle);
            }
            Thread.sleep(5);
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> acked.get() == LINES);
        ship.onCompleted();
        AgentServiceGrpc.newBlockingStub(channel).finishJob(FinishJobRequest.newBuilder().setJobId(job).setAttempt(attempt)
                .setFailureReason("done").build());

        assertThat(fromStart.done.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(fromMiddle.done.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(fromStart.error.get()).isNull();
        assertThat(fromMiddle.error.get()).isNull();
        assertThat(fromStart.lines).extracting(BuildLogLine::getOffset)
                .containsExactlyElementsOf(LongStream.range(0, LINES).boxed().toList());
        assertThat(fromStart.lines).extracting(BuildLogLine::getText)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, LINES).mapToObj(s -> "line " + s).toList());
        assertThat(fromStart.lines).extracting(BuildLogLine::getStage)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, LINES).mapToObj(LiveTailTest::stage).toList());
        assertThat(fromStart.lines).extracting(l -> Timestamps.toMicros(l.getTime()))
                .containsExactlyElementsOf(LongStream.rangeClosed(1, LINES).mapToObj(LiveTailTest::readMicros).toList());
        assertThat(fromStart.lines).extracting(BuildLogLine::getPlatform).containsOnly("linux/amd64");
        assertThat(fromMiddle.lines).extracting(BuildLogLine::getOffset)
                .containsExactlyElementsOf(LongStream.range(LINES / 3, LINES).boxed().toList());
        // And what was stored is the same log, line for line.
        Watcher replay = new Watcher();
        builds.streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(build.name()).build(), replay);
        assertThat(replay.done.await(60, TimeUnit.SECONDS)).isTrue();
        assertThat(replay.lines).isEqualTo(fromStart.lines);
    }
}
