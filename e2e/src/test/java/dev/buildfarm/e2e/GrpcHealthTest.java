package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ListServiceResponse;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a probe (grpc_health_probe, the chart's helm test) and grpcurl see on each service's TLS port
 * (mutual TLS with the stack's operator certificate):
 * grpc.health.v1.Health answers SERVING, and server reflection lists the service's API.
 */
class GrpcHealthTest {

    @ParameterizedTest(name = "{0} on :{1}")
    @CsvSource({
        "controller, 8443, buildfarm.v1.BuildService buildfarm.v1.AgentService buildfarm.v1.BuildRuleService",
        "agent, 8444, grpc.health.v1.Health",
        "manifest-assembler, 8445, buildfarm.v1.ManifestAssemblerService"})
    void healthAnswersServingAndReflectionListsTheApi(String service, int port, String api) throws Exception {
        ManagedChannel channel = Farm.channelTo("https://127.0.0.1:" + port).build();
        try {
            HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .check(HealthCheckRequest.newBuilder().setService("").build());
            assertThat(health.getStatus()).as(service).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);

            assertThat(listServices(channel)).as(service)
                    .contains("grpc.health.v1.Health")
                    .contains(api.split(" "));
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** The ListServices answer of server reflection (v1), as grpcurl list asks it. */
    private static List<String> listServices(ManagedChannel channel) throws Exception {
        CompletableFuture<ListServiceResponse> answer = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse response) {
                        answer.complete(response.getListServicesResponse());
                    }

                    @Override
                    public void onError(Throwable t) {
                        answer.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
        requests.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        requests.onCompleted();
        return answer.get(10, TimeUnit.SECONDS).getServiceList().stream().map(ServiceResponse::getName).toList();
    }
}
