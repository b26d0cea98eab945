package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRuleServiceGrpc;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.api.v1.ListAgentsResponse;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.TenancyServiceGrpc;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

/**
 * One channel to the controller (plaintext or TLS, see {@link Endpoint}); every unary call gets its own deadline. With a token, every call
 * carries {@code authorization: Bearer <token>}.
 */
final class BuildfarmClient implements AutoCloseable {

  // Bounds a single call (a hung controller), not a --wait, which polls with many short calls.
  private static final long CALL_DEADLINE_SECONDS = 30;
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final ManagedChannel channel;
  private final BuildServiceGrpc.BuildServiceBlockingStub stub;
  private final BuildServiceGrpc.BuildServiceStub asyncStub;
  private final BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules;

  BuildfarmClient(Endpoint endpoint, String token) {
    this.channel = Grpc.newChannelBuilder(endpoint.target(), endpoint.credentials())
        // A context upload is streamed in chunks of up to 1 MiB; answers are small.
        .maxInboundMessageSize(8 * 1024 * 1024)
        .build();
    BuildServiceGrpc.BuildServiceBlockingStub blocking = BuildServiceGrpc.newBlockingStub(channel);
    BuildServiceGrpc.BuildServiceStub async = BuildServiceGrpc.newStub(channel);
    BuildRuleServiceGrpc.BuildRuleServiceBlockingStub ruleStub = BuildRuleServiceGrpc.newBlockingStub(channel);
    if (token != null && !token.isBlank()) {
      Metadata headers = new Metadata();
      headers.put(AUTHORIZATION, "Bearer " + token.strip());
      var bearer = MetadataUtils.newAttachHeadersInterceptor(headers);
      blocking = blocking.withInterceptors(bearer);
      async = async.withInterceptors(bearer);
      ruleStub = ruleStub.withInterceptors(bearer);
    }
    this.stub = blocking;
    this.asyncStub = async;
    this.rules = ruleStub;
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

  Build cancel(String name) {
    return call().cancelBuild(CancelBuildRequest.newBuilder().setName(name).build());
  }

  ListAgentsResponse agents() {
    return call().listAgents(ListAgentsRequest.getDefaultInstance());
  }

  /** Log chunks as they come; with follow the iterator ends when the build does. */
  Iterator<LogChunk> logs(StreamBuildLogsRequest request) {
    return stub.streamBuildLogs(request);
  }

  BuildServiceGrpc.BuildServiceStub async() {
    return asyncStub;
  }

  BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules() {
    return rules.withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS);
  }

  /** On the rules stub's channel, which carries the token. */
  TenancyServiceGrpc.TenancyServiceBlockingStub tenancy() {
    return TenancyServiceGrpc.newBlockingStub(rules.getChannel()).withDeadlineAfter(CALL_DEADLINE_SECONDS, TimeUnit.SECONDS);
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
