package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** Cancel as a user presses it: the running emulated build stops within seconds and nothing is published. */
class CancelTest {

    private static final String SLEEPY = """
            FROM 127.0.0.1:5000/library/busybox:latest
            RUN echo started && sleep 600
            """;

    @Test
    void cancellingALongEmulatedRunStopsItAndPublishesNothing() throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", SLEEPY));
        String path = "e2e/cancel-" + UUID.randomUUID().toString().substring(0, 8);
        Build build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("cancel-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        // arm64 runs under QEMU on an amd64 host.
                        .addPlatforms("linux/arm64").addPlatforms("linux/amd64")
                        .setRepository(Farm.REGISTRY + "/" + path)
                        .addTags("latest"))
                .build());

        // Wait until the long RUN is really running on both platforms.
        Awaitility.await().atMost(Duration.ofMinutes(5)).until(() -> countStarted(build.getName()) == 2);
        String[] sleeping = Awaitility.await().atMost(Duration.ofMinutes(1)).until(CancelTest::sleepingContainers, ids -> ids.length == 2);

        long start = System.nanoTime();
        Build cancelled = Farm.builds().cancelBuild(CancelBuildRequest.newBuilder().setName(build.getName()).build());
        assertThat(cancelled.getState()).isEqualTo(Build.State.CANCELLED);
        assertThat(cancelled.getPlatformBuildsList()).extracting(PlatformBuild::getState).containsOnly(Build.State.CANCELLED);

        // The build containers are gone within seconds, not left behind.
        Awaitility.await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                .until(() -> Arrays.stream(sleeping).noneMatch(CancelTest::containerExists));
        System.out.printf("cancel to containers gone: %.1f s%n", (System.nanoTime() - start) / 1e9);

        // Cancelling twice is harmless.
        assertThat(Farm.builds().cancelBuild(CancelBuildRequest.newBuilder().setName(build.getName()).build()).getState())
                .isEqualTo(Build.State.CANCELLED);
        // Nothing was published: the repository has no tag at all.
        Thread.sleep(3_000);
        assertThat(Registry.manifest(path, "latest")).isNull();
        assertThat(Registry.tags(path).path("tags").size()).isZero();
        Build after = Farm.builds().getBuild(GetBuildRequest.newBuilder().setName(build.getName()).build());
        assertThat(after.getState()).isEqualTo(Build.State.CANCELLED);
        assertThat(after.getIndexDigest()).isEmpty();

        // The record can be found by state and repository.
        assertThat(Farm.builds().listBuilds(ListBuildsRequest.newBuilder()
                .setRepository(Farm.REGISTRY + "/" + path).setState(Build.State.CANCELLED).build()).getBuildsList())
                .extracting(Build::getName).containsExactly(build.getName());
        assertThat(Farm.builds().listBuilds(ListBuildsRequest.newBuilder()
                .setRepository(Farm.REGISTRY + "/" + path).setState(Build.State.SUCCEEDED).build()).getBuildsList()).isEmpty();
    }

    @Test
    void cancellingAFinishedBuildIsRefused() {
        Build finished = Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setState(Build.State.SUCCEEDED).setPageSize(1).build())
                .getBuildsList().stream().findFirst().orElse(null);
        if (finished == null) {
            finished = Farm.awaitFinal(quickBuild(), Duration.ofMinutes(5));
        }
        String name = finished.getName();
        assertThatThrownBy(() -> Farm.builds().cancelBuild(CancelBuildRequest.newBuilder().setName(name).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("only QUEUED or RUNNING builds can be cancelled");
                });
        assertThatThrownBy(() -> Farm.builds().cancelBuild(CancelBuildRequest.newBuilder().setName("builds/" + UUID.randomUUID()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    private static String quickBuild() throws RuntimeException {
        try {
            GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", "FROM 127.0.0.1:5000/library/busybox:latest\nRUN true\n"));
            return Farm.builds().submitBuild(SubmitBuildRequest.newBuilder().setSpec(BuildSpec.newBuilder()
                    .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                    .addPlatforms("linux/amd64")
                    .setRepository(Farm.REGISTRY + "/e2e/quick")
                    .addTags("latest")).build()).getName();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static long countStarted(String name) {
        long[] count = {0};
        Farm.builds().streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(name).build())
                .forEachRemaining(chunk -> count[0] += chunk.getLinesList().stream().filter(l -> l.getText().equals("started")).count());
        return count[0];
    }

    /** Ids of running containers whose command is the long sleep. */
    private static String[] sleepingContainers() throws Exception {
        String out = Docker.run("ps", "--no-trunc", "--format", "{{.ID}} {{.Command}}");
        return out.lines().filter(l -> l.contains("sleep 600")).map(l -> l.split(" ")[0]).toArray(String[]::new);
    }

    private static boolean containerExists(String id) {
        try {
            return !Docker.run("ps", "-a", "-q", "--no-trunc", "--filter", "id=" + id).isBlank();
        } catch (Exception e) {
            return true;
        }
    }
}
