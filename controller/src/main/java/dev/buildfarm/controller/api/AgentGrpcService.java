package dev.buildfarm.controller.api;

import com.google.protobuf.Duration;
import com.google.protobuf.util.Durations;
import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.api.v1.AttachRequest;
import dev.buildfarm.api.v1.AttachResponse;
import dev.buildfarm.api.v1.ClaimJobRequest;
import dev.buildfarm.api.v1.ClaimJobResponse;
import dev.buildfarm.api.v1.ContextChunk;
import dev.buildfarm.api.v1.FetchContextRequest;
import dev.buildfarm.controller.context.ContextSender;
import dev.buildfarm.controller.context.ContextStore;
import io.grpc.stub.ServerCallStreamObserver;
import java.nio.file.Path;
import dev.buildfarm.api.v1.FinishJobRequest;
import dev.buildfarm.api.v1.FinishJobResponse;
import dev.buildfarm.api.v1.HeartbeatRequest;
import dev.buildfarm.api.v1.HeartbeatResponse;
import dev.buildfarm.api.v1.ReportAgentRequest;
import dev.buildfarm.api.v1.ReportAgentResponse;
import dev.buildfarm.controller.agent.AgentJobs;
import dev.buildfarm.controller.agent.AgentRegistry;
import dev.buildfarm.controller.build.BuildSpecValidator;
import dev.buildfarm.controller.logs.AgentLines;
import dev.buildfarm.controller.logs.BuildSignals;
import dev.buildfarm.controller.logs.LiveLogs;
import dev.buildfarm.controller.publish.IndexPublication;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.regex.Pattern;

/** The protocol agents speak: attach, claim, heartbeat, logs, finish. */
@GrpcService
@Blocking
public class AgentGrpcService extends AgentServiceGrpc.AgentServiceImplBase {

    private static final Pattern AGENT_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,252}");

    private static ApiError badAgentName(String name) {
        return ApiError.invalid("agent", "'" + name + "' must be a host-like name [A-Za-z0-9._-]");
    }


    @Inject
    AgentJobs jobs;

    @Inject
    IndexPublication publication;

    @Inject
    BuildSignals signals;

    @Inject
    LiveLogs liveLogs;

    @Inject
    AgentRegistry agents;

    @Inject
    ContextStore contexts;

    @Inject
    ContextSender sender;

    @Override
    public void fetchContext(FetchContextRequest request, StreamObserver<ContextChunk> observer) {
        Path tar;
        try {
            String digest = jobs.contextDigestOf(request.getJobId(), request.getAttempt());
            tar = contexts.find(digest).orElseThrow(() -> ApiError.failedPrecondition("CONTEXT_GONE",
                    "context " + digest + " is no longer stored on the controller"));
        } catch (ApiError e) {
            observer.onError(e.toStatusRuntimeException());
            return;
        }
        sender.send(tar, (ServerCallStreamObserver<ContextChunk>) observer);
    }

    @Override
    public void claimJob(ClaimJobRequest request, StreamObserver<ClaimJobResponse> observer) {
        Rpc.unary(observer, () -> {
            if (request.getAgent().isBlank()) {
                throw ApiError.invalid("agent", "is required");
            }
            AgentJobs.Claim claim = jobs.claim(request.getJobId(), request.getAgent(), request.getEmulated(), request.getOldestFirst());
            ClaimJobResponse.Builder response = ClaimJobResponse.newBuilder()
                    .setGranted(claim.granted())
                    .setAttempt(claim.attempt())
                    .setReason(claim.reason())
                    .setLease(Duration.newBuilder().setSeconds(claim.lease().getSeconds()))
                    .setRetryAfter(Durations.fromMillis(claim.retryAfter().toMillis()));
            claim.credentials().ifPresent(response::setSourceCredentials);
            response.putAllSecretBuildArgs(claim.secretBuildArgs());
            claim.registryAuth().ifPresent(response::setRegistryAuth);
            claim.job().ifPresent(response::setJob);
            return response.build();
        });
    }

    @Override
    public void heartbeat(HeartbeatRequest request, StreamObserver<HeartbeatResponse> observer) {
        Rpc.unary(observer, () -> HeartbeatResponse.newBuilder()
                .setCancelRequested(jobs.heartbeat(request.getJobId(), request.getAttempt()).cancelRequested())
                .build());
    }

    @Override
    public void appendLogs(AppendLogsRequest request, StreamObserver<AppendLogsResponse> observer) {
        Rpc.unary(observer, () -> {
            LiveLogs.Ack ack = liveLogs.acceptAndStore(request.getJobId(), request.getAttempt(), AgentLines.of(request));
            return AppendLogsResponse.newBuilder().setCancelRequested(ack.cancelRequested())
                    .setAckedSequence(ack.ackedSequence()).build();
        });
    }

    @Override
    public StreamObserver<AppendLogsRequest> shipLogs(StreamObserver<AppendLogsResponse> responses) {
        return new LogStream(liveLogs, responses);
    }

    @Override
    public void attach(AttachRequest request, StreamObserver<AttachResponse> observer) {
        if (!AGENT_NAME.matcher(request.getAgent()).matches()) {
            observer.onError(badAgentName(request.getAgent()).toStatusRuntimeException());
            return;
        }
        // Held open; AgentConnections watches the connection under it.
        ((ServerCallStreamObserver<AttachResponse>) observer).setOnCancelHandler(() -> { });
    }

    @Override
    public void reportAgent(ReportAgentRequest request, StreamObserver<ReportAgentResponse> observer) {
        Rpc.unary(observer, () -> {
            if (!AGENT_NAME.matcher(request.getAgent()).matches()) {
                throw badAgentName(request.getAgent());
            }
            agents.report(request.getAgent(), request.getPlatformsList());
            return ReportAgentResponse.getDefaultInstance();
        });
    }

    @Override
    public void finishJob(FinishJobRequest request, StreamObserver<FinishJobResponse> observer) {
        Rpc.unary(observer, () -> {
            AgentJobs.Finished finished = switch (request.getResultCase()) {
                case DIGEST -> {
                    if (!request.getDigest().matches("sha256:[0-9a-f]{64}")) {
                        throw ApiError.invalid("digest", "'" + request.getDigest() + "' is not a sha256 digest");
                    }
                    if (!request.getRepository().isEmpty() && !BuildSpecValidator.isValidRepository(request.getRepository())) {
                        throw ApiError.invalid("repository", "'" + request.getRepository() + "' is not host[:port]/path");
                    }
                    yield jobs.succeed(request.getJobId(), request.getAttempt(), request.getDigest(), request.getRepository());
                }
                case FAILURE_REASON -> jobs.fail(request.getJobId(), request.getAttempt(), request.getFailureReason());
                case RESULT_NOT_SET -> throw ApiError.invalid("result", "set digest or failure_reason");
            };
            signals.signal(finished.buildId());
            liveLogs.ended(java.util.UUID.fromString(request.getJobId()));
            if (finished.readyToPublish()) {
                publication.publishSoon(finished.buildId());
            }
            return FinishJobResponse.newBuilder().setBuildState(finished.buildState().toProto()).build();
        });
    }
}
