package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import java.util.concurrent.TimeUnit;

/** One channel to the controller's BuildService; every call gets its own deadline. */
final class BuildfarmClient implements AutoCloseable {

  // Bounds a single call (a hung controller), not a --wait, which polls with many short calls.
  private static final long CALL_DEADLINE_SECONDS = 30;

  private final ManagedChannel channel;
  private final BuildServiceGrpc.BuildServiceBlockingStub stub;

  BuildfarmClient(String endpoint) {
    // Plaintext for now; TLS comes with the controller's TLS setup.
    this.channel = Grpc.newChannelBuilder(endpoint, InsecureChannelCredentials.create()).build();
    this.stub = BuildServiceGrpc.newBlockingStub(channel);
  }

  Build submit(SubmitBuildRequest request) {
    return call().submitBuild(request);
  }

  Build get(String name) {
    return call().getBuild(GetBuildRequest.newBuilder().setName(name).build());
  }

  ListBuildsResponse list(ListBuildsRequest request) {
    return call().listBuilds(request);
  }

  private BuildServiceGrpc.BuildServiceBlockingStub call() {
    return stub.withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
