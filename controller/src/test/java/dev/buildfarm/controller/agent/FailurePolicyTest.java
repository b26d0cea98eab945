package dev.buildfarm.controller.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.RetryBuildRequest;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.BuildStore;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Failure policies on the real database and the real gRPC API, with the agent side played through
 * AgentJobs: by default one failed platform fails the build; publish_partial publishes the others;
 * RetryBuild runs only the platforms that did not succeed and keeps the digests of those that did.
 */
@QuarkusTest
class FailurePolicyTest {

    private static final String COMMIT = "b".repeat(40);
    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7");

    @Inject
    AgentJobs jobs;

    @Inject
    BuildStore store;

    private final ManagedChannel channel = ManagedChannelBuilder
            .forAddress("127.0.0.1", ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class))
            .usePlaintext().build();
    private final BuildServiceGrpc.BuildServiceBlockingStub api = BuildServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(30, TimeUnit.SECONDS);

    @AfterEach
    void close() {
        channel.shutdownNow();
    }

    private Build submit(boolean publishPartial) {
        BuildEntity build = store.create("", BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit(COMMIT))
                .addAllPlatforms(PLATFORMS)
                .setRepository("127.0.0.1:5000/policy/test").addTags("latest").setDockerfileName("Dockerfile")
                .setPublishPartial(publishPartial)
                .build(), COMMIT, Trigger.newBuilder().setKind(Trigger.Kind.API).build());
        return get(build.name());
    }

    private Build get(String name) {
        return api.getBuild(GetBuildRequest.newBuilder().setName(name).build());
    }

    private static Map<String, PlatformBuild> byPlatform(Build build) {
        return build.getPlatformBuildsList().stream().collect(Collectors.toMap(PlatformBuild::getPlatform, Function.identity()));
    }

    /** The job id of one platform build. */
    private String job(Build build, String platform) {
        UUID id = UUID.fromString(build.getName().substring(BuildEntity.NAME_PREFIX.length()));
        return QuarkusTransaction.requiringNew().call(() -> BuildEntity.<BuildEntity>findById(id).platformBuilds.stream()
                .filter(pb -> pb.platform.equals(platform)).findFirst().orElseThrow().id.toString());
    }

    private AgentJobs.Finished succeed(Build build, String platform, String digestHex) {
        String job = job(build, platform);
        int attempt = jobs.claim(job, "agent-" + platform.replace('/', '-'), false).attempt();
        return jobs.succeed(job, attempt, "sha256:" + digestHex.repeat(64), "");
    }

    private AgentJobs.Finished fail(Build build, String platform) {
        String job = job(build, platform);
        int attempt = jobs.claim(job, "agent-" + platform.replace('/', '-'), false).attempt();
        return jobs.fail(job, attempt, "RUN step exited 1");
    }

    @Test
    void byDefaultOneFailedPlatformFailsTheBuildAndARetryRunsOnlyTheOthers() {
        Build build = submit(false);
        succeed(build, "linux/amd64", "a");
        AgentJobs.Finished failed = fail(build, "linux/arm64");
        assertThat(failed.buildState()).isEqualTo(BuildState.FAILED);
        assertThat(failed.readyToPublish()).isFalse();
        Build after = get(build.getName());
        assertThat(after.getState()).isEqualTo(Build.State.FAILED);
        assertThat(after.getFailureReason()).isEqualTo("linux/arm64: RUN step exited 1");
        // The build failed: the platform still queued is refused to agents.
        assertThat(jobs.claim(job(build, "linux/arm/v7"), "late-agent", false).granted()).isFalse();

        Build retried = api.retryBuild(RetryBuildRequest.newBuilder().setName(build.getName()).build());
        assertThat(retried.getState()).isEqualTo(Build.State.RUNNING);
        assertThat(retried.getFailureReason()).isEmpty();
        Map<String, PlatformBuild> platforms = byPlatform(retried);
        assertThat(platforms.get("linux/amd64").getState()).isEqualTo(Build.State.SUCCEEDED);
        assertThat(platforms.get("linux/amd64").getDigest()).isEqualTo("sha256:" + "a".repeat(64));
        assertThat(platforms.get("linux/arm64").getState()).isEqualTo(Build.State.QUEUED);
        assertThat(platforms.get("linux/arm64").getFailureReason()).isEmpty();
        assertThat(platforms.get("linux/arm/v7").getState()).isEqualTo(Build.State.QUEUED);

        succeed(build, "linux/arm/v7", "c");
        AgentJobs.Finished last = succeed(build, "linux/arm64", "b");
        assertThat(last.readyToPublish()).isTrue();
        assertThat(last.buildState()).isEqualTo(BuildState.PUBLISHING);
        assertThat(byPlatform(get(build.getName())).get("linux/arm64").getAttempt()).isEqualTo(2);
    }

    @Test
    void publishPartialWaitsForEveryPlatformThenPublishesThoseThatSucceeded() {
        Build build = submit(true);
        AgentJobs.Finished failed = fail(build, "linux/amd64");
        assertThat(failed.buildState()).isEqualTo(BuildState.RUNNING);
        succeed(build, "linux/arm64", "b");
        AgentJobs.Finished last = succeed(build, "linux/arm/v7", "c");
        assertThat(last.readyToPublish()).isTrue();
        Build after = get(build.getName());
        assertThat(after.getState()).isEqualTo(Build.State.PUBLISHING);
        assertThat(after.getMissingPlatformsList()).containsExactly("linux/amd64");
    }

    @Test
    void publishPartialWithNoPlatformSucceededFails() {
        Build build = submit(true);
        fail(build, "linux/amd64");
        fail(build, "linux/arm64");
        AgentJobs.Finished last = fail(build, "linux/arm/v7");
        assertThat(last.buildState()).isEqualTo(BuildState.FAILED);
        assertThat(last.readyToPublish()).isFalse();
        assertThat(get(build.getName()).getFailureReason())
                .contains("linux/amd64: ", "linux/arm64: ", "linux/arm/v7: ");
    }

    @Test
    void badRetriesAreRefusedAndChangeNothing() {
        assertCode(RetryBuildRequest.newBuilder().setName("build/1"), Status.Code.INVALID_ARGUMENT, "name");
        assertCode(RetryBuildRequest.newBuilder().setName("builds/" + UUID.randomUUID()), Status.Code.NOT_FOUND, "does not exist");

        Build running = submit(false);
        succeed(running, "linux/amd64", "a");
        assertCode(RetryBuildRequest.newBuilder().setName(running.getName()), Status.Code.FAILED_PRECONDITION, "only FAILED builds");

        fail(running, "linux/arm64");
        assertCode(RetryBuildRequest.newBuilder().setName(running.getName()).addPlatforms("linux/amd64"),
                Status.Code.INVALID_ARGUMENT, "succeeded already");
        assertCode(RetryBuildRequest.newBuilder().setName(running.getName()).addPlatforms("linux/s390x"),
                Status.Code.INVALID_ARGUMENT, "platforms");
        assertCode(RetryBuildRequest.newBuilder().setName(running.getName()).addPlatforms("windows/amd64"),
                Status.Code.INVALID_ARGUMENT, "platforms");
        assertCode(RetryBuildRequest.newBuilder().setName(running.getName()).addPlatforms("linux/arm64").addPlatforms("aarch64"),
                Status.Code.INVALID_ARGUMENT, "named twice");
        Build unchanged = get(running.getName());
        assertThat(unchanged.getState()).isEqualTo(Build.State.FAILED);
        assertThat(byPlatform(unchanged).get("linux/arm64").getState()).isEqualTo(Build.State.FAILED);

        // Named alone, a failed platform runs again and the queued one stays as it is.
        Build retried = api.retryBuild(RetryBuildRequest.newBuilder().setName(running.getName()).addPlatforms("arm64").build());
        assertThat(byPlatform(retried).get("linux/arm64").getState()).isEqualTo(Build.State.QUEUED);
        assertThat(retried.getState()).isEqualTo(Build.State.RUNNING);
    }

    private void assertCode(RetryBuildRequest.Builder request, Status.Code code, String message) {
        assertThatThrownBy(() -> api.retryBuild(request.build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
    }
}
