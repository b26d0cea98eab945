package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.RetryInfo;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * One team floods the farm, another submits one build: the second team's build starts while most of
 * the flood still waits. The dev farm lets namespace fair-a have one job in flight
 * (dev/services.sh); fair-b has the default.
 */
class FairShareTest {

    private static final int FLOOD = 200;

    @Test
    void aQuietNamespaceIsServedWhileAnotherFloodsTheFarm() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile",
                "FROM " + Farm.REGISTRY + "/library/busybox:latest\nLABEL fair=share\n"));
        List<Build> flood = new ArrayList<>();
        Build quiet = null;
        int throttled = 0;
        try {
            // At once, from 16 callers: past the namespace's burst of 100 the farm answers RESOURCE_EXHAUSTED
            // with a RetryInfo, and each caller comes back when it says.
            java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(16);
            try {
                List<java.util.concurrent.Future<Submitted>> calls = new ArrayList<>();
                for (int i = 0; i < FLOOD; i++) {
                    String tag = "flood-" + i;
                    calls.add(callers.submit(() -> submit(repo, "fair-a", tag)));
                }
                for (var call : calls) {
                    flood.add(call.get().build());
                    throttled += call.get().throttled();
                }
            } finally {
                callers.shutdownNow();
            }
            System.out.printf("fair-a: %d builds submitted, %d calls answered RESOURCE_EXHAUSTED and retried%n", flood.size(), throttled);

            quiet = submit(repo, "fair-b", "quiet").build();
            String name = quiet.getName();
            AtomicReference<Build> seen = new AtomicReference<>();
            Awaitility.await("the quiet namespace's build to start").atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(200))
                    .until(() -> {
                        seen.set(get(name));
                        return seen.get().getPlatformBuilds(0).hasStartTime();
                    });
            long floodStarted = flood.stream().filter(b -> get(b.getName()).getPlatformBuilds(0).hasStartTime()).count();
            System.out.printf("fair-b's build started when %d of fair-a's %d had%n", floodStarted, FLOOD);
            assertThat(floodStarted).as("flood builds started before the quiet one's").isLessThan(FLOOD / 10);
            Build done = Farm.awaitFinal(name, Duration.ofMinutes(2));
            assertThat(done.getState()).isEqualTo(Build.State.SUCCEEDED);
        } finally {
            for (Build b : flood) {
                cancelQuietly(b);
            }
        }
    }

    private record Submitted(Build build, int throttled) {
    }

    /** Submits, honouring RESOURCE_EXHAUSTED's RetryInfo with the same request_id. */
    private static Submitted submit(GitFixtures.Repo repo, String namespace, String tag) throws InterruptedException {
        SubmitBuildRequest request = SubmitBuildRequest.newBuilder()
                .setRequestId("fair-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setCommit(repo.commit()))
                        .addPlatforms("linux/amd64")
                        .setRepository(Farm.REGISTRY + "/" + namespace + "/app")
                        .addTags(tag))
                .build();
        for (int throttled = 0; ; throttled++) {
            try {
                return new Submitted(Farm.builds().submitBuild(request), throttled);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
                    throw e;
                }
                RetryInfo retry = StatusProto.fromThrowable(e).getDetailsList().stream().filter(a -> a.is(RetryInfo.class))
                        .map(FairShareTest::retryInfo).findFirst().orElseThrow(() -> new AssertionError("no RetryInfo in " + e));
                Thread.sleep(retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000);
            }
        }
    }

    private static RetryInfo retryInfo(com.google.protobuf.Any any) {
        try {
            return any.unpack(RetryInfo.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    private static Build get(String name) {
        return Farm.builds().getBuild(GetBuildRequest.newBuilder().setName(name).build());
    }

    private static void cancelQuietly(Build build) {
        try {
            Farm.builds().cancelBuild(CancelBuildRequest.newBuilder().setName(build.getName()).build());
        } catch (StatusRuntimeException e) {
            // already ended
        }
    }
}
