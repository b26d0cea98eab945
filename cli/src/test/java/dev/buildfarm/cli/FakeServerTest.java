package dev.buildfarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The CLI against a real gRPC server (loopback, ephemeral port) with a scripted fake service. */
class FakeServerTest {

  private final FakeBuildService service = new FakeBuildService();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();
  private Server server;
  private String endpoint;

  @BeforeEach
  void start() throws IOException {
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(io.grpc.ServerInterceptors.intercept(service, new io.grpc.ServerInterceptor() {
          @Override
          public <Q, A> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, A> call,
              io.grpc.Metadata headers, io.grpc.ServerCallHandler<Q, A> next) {
            authorizations.add(String.valueOf(headers.get(BuildfarmClient.AUTHORIZATION)));
            return next.startCall(call, headers);
          }
        }))
        .build()
        .start();
    endpoint = "127.0.0.1:" + server.getPort();
  }

  @AfterEach
  void stop() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private CliRun submit(String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("--endpoint", endpoint, "submit",
        "--git-url", "https://example.com/demo.git", "--ref", "main",
        "--platform", "linux/amd64,linux/arm/v7", "-t", "127.0.0.1:5000/demo/hello:main"));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(String[]::new));
  }

  @Test
  void submitPrintsTheBuildNameAndSendsTheSpec() {
    service.submitAnswer = build(Build.State.QUEUED);

    CliRun run = submit("--build-arg", "GREETING=hi");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("builds/b1" + System.lineSeparator());
    SubmitBuildRequest sent = service.submitted.get(0);
    assertThat(sent.getSpec().getPlatformsList()).containsExactly("linux/amd64", "linux/arm/v7");
    assertThat(sent.getSpec().getRepository()).isEqualTo("127.0.0.1:5000/demo/hello");
    assertThat(sent.getSpec().getTagsList()).containsExactly("main");
    assertThat(sent.getSpec().getBuildArgsMap()).containsEntry("GREETING", "hi");
  }

  @Test
  void waitFollowsStateChangesAndExitsZeroOnSuccess() {
    service.submitAnswer = build(Build.State.QUEUED,
        platform("linux/amd64", Build.State.QUEUED, ""),
        platform("linux/arm/v7", Build.State.QUEUED, ""));
    Build running = build(Build.State.RUNNING,
        platform("linux/amd64", Build.State.RUNNING, "amd"),
        platform("linux/arm/v7", Build.State.RUNNING, "host").toBuilder().setEmulated(true).build());
    service.getAnswers.add(running);
    service.getAnswers.add(running); // unchanged: nothing new is printed
    service.getAnswers.add(build(Build.State.SUCCEEDED,
            platform("linux/amd64", Build.State.SUCCEEDED, "amd"),
            platform("linux/arm/v7", Build.State.SUCCEEDED, "host").toBuilder().setEmulated(true).build())
        .toBuilder().setIndexDigest("sha256:feed").build());

    CliRun run = submit("--wait");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out().lines().toList()).containsExactly(
        "builds/b1",
        "builds/b1  QUEUED",
        "linux/amd64     QUEUED",
        "linux/arm/v7    QUEUED",
        "builds/b1  RUNNING",
        "linux/amd64     RUNNING     agent=amd native",
        "linux/arm/v7    RUNNING     agent=host emulated",
        "builds/b1  SUCCEEDED",
        "linux/amd64     SUCCEEDED   agent=amd native",
        "linux/arm/v7    SUCCEEDED   agent=host emulated",
        "index digest: sha256:feed");
    assertThat(service.gets).hasSize(3);
  }

  @Test
  void waitExitsOneWhenTheBuildFails() {
    service.submitAnswer = build(Build.State.QUEUED);
    service.getAnswers.add(build(Build.State.FAILED,
            platform("linux/arm/v7", Build.State.FAILED, "host").toBuilder()
                .setFailureReason("RUN step exited 1").build())
        .toBuilder().setFailureReason("platform linux/arm/v7 failed").build());

    CliRun run = submit("--wait");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out())
        .contains("builds/b1  FAILED  reason: platform linux/arm/v7 failed")
        .contains("reason: RUN step exited 1")
        .doesNotContain("index digest");
  }

  @Test
  void waitInJsonModePrintsOnlyTheFinalBuildOnStdout() {
    service.submitAnswer = build(Build.State.SUCCEEDED).toBuilder().setIndexDigest("sha256:feed").build();

    CliRun run = CliRun.of("--output", "json", "--endpoint", endpoint, "submit", "--git-url", "u",
        "--commit", "0123456789abcdef0123456789abcdef01234567", "--platform", "linux/amd64",
        "-t", "r:t", "--wait");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).startsWith("{").contains("\"indexDigest\": \"sha256:feed\"");
    assertThat(run.err()).contains("builds/b1  SUCCEEDED");
    assertThat(service.submitted.get(0).getSpec().getSource().getCommit())
        .isEqualTo("0123456789abcdef0123456789abcdef01234567");
  }

  @Test
  void serverErrorPrintsOneLineAndExitsThree() {
    service.submitError = Status.INVALID_ARGUMENT.withDescription("tags: at most 3");

    CliRun run = submit();

    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).isEqualTo("error: INVALID_ARGUMENT: tags: at most 3" + System.lineSeparator());
  }

  @Test
  void getPrintsTextOrJson() {
    service.getAnswers.add(build(Build.State.RUNNING,
        platform("linux/arm64", Build.State.RUNNING, "pi")));

    CliRun text = CliRun.of("--endpoint", endpoint, "get", "builds/b1");
    assertThat(text.exitCode()).isZero();
    assertThat(text.out()).startsWith("builds/b1  RUNNING")
        .contains("image    127.0.0.1:5000/demo/hello:main")
        .contains("linux/arm64     RUNNING     agent=pi native");
    assertThat(service.gets.get(0).getName()).isEqualTo("builds/b1");

    CliRun json = CliRun.of("--endpoint", endpoint, "--output", "json", "get", "builds/b1");
    assertThat(json.out()).contains("\"state\": \"RUNNING\"").contains("\"name\": \"builds/b1\"");
  }

  @Test
  void aTokenIsSentAsBearerAuthorization() {
    service.getAnswers.add(build(Build.State.RUNNING));

    CliRun.of("--endpoint", endpoint, "--token", "s3cret", "status", "b1");
    CliRun.of("--endpoint", endpoint, "status", "b1");

    assertThat(authorizations).containsExactly("Bearer s3cret", "null");
    assertThat(service.gets.get(0).getName()).isEqualTo("builds/b1");
  }

  @Test
  void getOfAMissingBuildExitsThree() {
    CliRun run = CliRun.of("--endpoint", endpoint, "get", "builds/nope");
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.err()).startsWith("error: NOT_FOUND: builds/nope");
  }

  @Test
  void listPassesThePageSizeAndPrintsOneLinePerBuild() {
    CliRun run = CliRun.of("--endpoint", endpoint, "list", "--page-size", "5");

    assertThat(run.exitCode()).isZero();
    assertThat(service.lists.get(0).getPageSize()).isEqualTo(5);
    assertThat(run.out().lines().toList()).hasSize(2);
    assertThat(run.out()).contains("builds/b1  SUCCEEDED   127.0.0.1:5000/demo/hello:main")
        .contains("more: --page-token next");
  }

  private static Build build(Build.State state, PlatformBuild... platforms) {
    return Build.newBuilder()
        .setName("builds/b1")
        .setState(state)
        .setSpec(BuildSpec.newBuilder()
            .setRepository("127.0.0.1:5000/demo/hello")
            .addTags("main")
            .addPlatforms("linux/amd64"))
        .addAllPlatformBuilds(List.of(platforms))
        .build();
  }

  private static PlatformBuild platform(String platform, Build.State state, String agent) {
    return PlatformBuild.newBuilder().setPlatform(platform).setState(state).setAgent(agent).build();
  }

  /** Answers from a script and records what it was asked. */
  static final class FakeBuildService extends BuildServiceGrpc.BuildServiceImplBase {
    final List<SubmitBuildRequest> submitted = new CopyOnWriteArrayList<>();
    final List<GetBuildRequest> gets = new CopyOnWriteArrayList<>();
    final List<ListBuildsRequest> lists = new CopyOnWriteArrayList<>();
    volatile Build submitAnswer;
    volatile Status submitError;
    /** GetBuild answers in order; the last one repeats. Empty: NOT_FOUND. */
    final Deque<Build> getAnswers = new ArrayDeque<>();

    @Override
    public void submitBuild(SubmitBuildRequest request, StreamObserver<Build> response) {
      submitted.add(request);
      if (submitError != null) {
        response.onError(submitError.asRuntimeException());
        return;
      }
      response.onNext(submitAnswer);
      response.onCompleted();
    }

    @Override
    public synchronized void getBuild(GetBuildRequest request, StreamObserver<Build> response) {
      gets.add(request);
      if (getAnswers.isEmpty()) {
        response.onError(Status.NOT_FOUND.withDescription(request.getName()).asRuntimeException());
        return;
      }
      response.onNext(getAnswers.size() > 1 ? getAnswers.poll() : getAnswers.peek());
      response.onCompleted();
    }

    @Override
    public void listBuilds(ListBuildsRequest request, StreamObserver<ListBuildsResponse> response) {
      lists.add(request);
      response.onNext(ListBuildsResponse.newBuilder()
          .addBuilds(build(Build.State.SUCCEEDED))
          .setNextPageToken("next")
          .build());
      response.onCompleted();
    }
  }
}
