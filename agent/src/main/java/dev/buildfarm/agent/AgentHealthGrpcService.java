package dev.buildfarm.agent;

import dev.buildfarm.agent.jobs.Agent;
import grpc.health.v1.HealthGrpc;
import grpc.health.v1.HealthOuterClass.HealthCheckRequest;
import grpc.health.v1.HealthOuterClass.HealthCheckResponse;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import jakarta.inject.Inject;

/**
 * grpc.health.v1.Health on the agent's port, so the probes and tools that ask the controller and the
 * assembler can ask agents too: SERVING once the platform probe has found a platform to serve (what
 * /q/health/ready says), NOT_SERVING before. The agent serves no other gRPC API, so Quarkus' own
 * health service, which only knows that the server runs, is switched off here.
 */
@GrpcService
public class AgentHealthGrpcService extends HealthGrpc.HealthImplBase {

    @Inject
    Agent agent;

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> observer) {
        if (!request.getService().isEmpty()) {
            observer.onError(Status.NOT_FOUND.withDescription("service: '" + request.getService()
                    + "' is not served by an agent; ask for \"\" (the agent as a whole)").asRuntimeException());
            return;
        }
        HealthCheckResponse.ServingStatus status = agent.served().isEmpty()
                ? HealthCheckResponse.ServingStatus.NOT_SERVING : HealthCheckResponse.ServingStatus.SERVING;
        observer.onNext(HealthCheckResponse.newBuilder().setStatus(status).build());
        observer.onCompleted();
    }
}
