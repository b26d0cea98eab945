package dev.buildfarm.agent.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.api.v1.LogLine;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The log shipper against a real gRPC server whose first ShipLogs stream breaks before it acknowledges
 * anything, as when the controller is killed while a build's last lines are on the way.
 */
class LogShipperTest {

    private final AtomicInteger streams = new AtomicInteger();
    /** Sequences the second stream received. */
    private final List<Long> resent = new CopyOnWriteArrayList<>();
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(new AgentServiceGrpc.AgentServiceImplBase() {
            @Override
            public StreamObserver<AppendLogsRequest> shipLogs(StreamObserver<AppendLogsResponse> responses) {
                boolean first = streams.incrementAndGet() == 1;
                return new StreamObserver<>() {
                    @Override
                    public void onNext(AppendLogsRequest request) {
                        if (first) {
                            responses.onError(Status.UNAVAILABLE.withDescription("controller going away").asRuntimeException());
                            return;
                        }
                        request.getLinesList().stream().map(LogLine::getSequence).forEach(resent::add);
                        long last = request.getLines(request.getLinesCount() - 1).getSequence();
                        responses.onNext(AppendLogsResponse.newBuilder().setAckedSequence(last).build());
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                        responses.onCompleted();
                    }
                };
            }
        }).build().start();
        channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.getPort(), InsecureChannelCredentials.create()).build();
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void linesSentOnAStreamThatBrokeAreSentAgainOnCloseWithoutNewLines() {
        LogShipper shipper = new LogShipper(AgentServiceGrpc.newStub(channel), "job", 1, () -> { }, 1 << 20, SecretRedactor.none());
        shipper.line("Step 1/2 : RUN make");
        shipper.line("done");
        shipper.flush();

        long started = System.nanoTime();
        shipper.close(10_000);
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);

        assertThat(resent).as("lines the second stream received").containsExactly(1L, 2L);
        assertThat(streams.get()).isEqualTo(2);
        assertThat(tookMillis).as("close waited for the acknowledgement, not its whole timeout").isLessThan(5_000);
    }
}
