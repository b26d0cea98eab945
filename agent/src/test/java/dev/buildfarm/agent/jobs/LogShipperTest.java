package dev.buildfarm.agent.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.api.v1.LogBatch;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The agent's side of ShipLogs over real gRPC, against a stand-in controller that keeps what it is
 * sent: batches go as LogBatch columns that give back every line's sequence, text, stage and read
 * time, and lines of a broken stream are sent again on the next.
 */
class LogShipperTest {

    /** One line as the controller reads it back from the columns. */
    record Received(long sequence, String text, String stage, long readMicros) {
    }

    /**
     * Records each stream's batches; acknowledges them, or breaks the first stream at its first batch,
     * or (holding) answers nothing.
     */
    static final class Controller extends AgentServiceGrpc.AgentServiceImplBase {
        final List<List<AppendLogsRequest>> streams = new CopyOnWriteArrayList<>();
        final AtomicInteger breakFirst = new AtomicInteger();
        final AtomicBoolean holding = new AtomicBoolean();

        @Override
        public StreamObserver<AppendLogsRequest> shipLogs(StreamObserver<AppendLogsResponse> responses) {
            List<AppendLogsRequest> mine = new CopyOnWriteArrayList<>();
            streams.add(mine);
            return new StreamObserver<>() {
                @Override
                public void onNext(AppendLogsRequest request) {
                    mine.add(request);
                    if (breakFirst.getAndSet(0) == 1) {
                        responses.onError(Status.UNAVAILABLE.withDescription("controller restarting").asRuntimeException());
                        return;
                    }
                    if (holding.get()) {
                        return;
                    }
                    LogBatch batch = request.getBatch();
                    responses.onNext(AppendLogsResponse.newBuilder()
                            .setAckedSequence(batch.getFirstSequence() + batch.getTextsCount() - 1).build());
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
    }

    private final Controller controller = new Controller();
    private Server server;
    private ManagedChannel channel;
    private ScheduledExecutorService session;

    private LogShipper start() throws Exception {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(controller).build().start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().directExecutor().build();
        return new LogShipper(AgentServiceGrpc.newStub(channel), "job", 1, () -> { }, 8 << 20, SecretRedactor.of(List.of()));
    }

    @AfterEach
    void stop() {
        if (session != null) {
            session.shutdownNow();
        }
        if (channel != null) {
            channel.shutdownNow();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    static List<Received> lines(List<AppendLogsRequest> requests) {
        List<Received> out = new ArrayList<>();
        for (AppendLogsRequest request : requests) {
            assertThat(request.getLinesCount()).isZero();
            LogBatch batch = request.getBatch();
            assertThat(batch.getReadMicrosCount()).isEqualTo(batch.getTextsCount());
            assertThat(batch.getStageStartsList()).isSorted().startsWith(0);
            long micros = 0;
            int run = -1;
            for (int i = 0; i < batch.getTextsCount(); i++) {
                while (run + 1 < batch.getStageStartsCount() && batch.getStageStarts(run + 1) <= i) {
                    run++;
                }
                micros += batch.getReadMicros(i);
                out.add(new Received(batch.getFirstSequence() + i, batch.getTexts(i), batch.getStages(run), micros));
            }
        }
        return out;
    }

    @Test
    void batchesCarryEachLinesStageAndReadTimeAsColumns() throws Exception {
        LogShipper log = start();
        long before = System.currentTimeMillis() * 1000;
        log.stage("checkout");
        log.line("cloning");
        log.line("Step 1/2 : FROM busybox");
        log.line(" ---> 1234");
        log.line("Step 2/2 : RUN seq 1 3");
        for (int i = 1; i <= 12_000; i++) {
            log.line(Integer.toString(i));
        }
        log.stage("push");
        log.line("pushed");
        log.close(10_000);
        long after = System.currentTimeMillis() * 1000 + 1000;

        List<Received> lines = lines(controller.streams.get(0));
        assertThat(controller.streams).hasSize(1);
        // More than one batch (at most 5,000 lines each), one stream, every sequence once and in order.
        assertThat(controller.streams.get(0)).hasSizeGreaterThan(2);
        assertThat(lines).extracting(Received::sequence).containsExactlyElementsOf(LongStream.rangeClosed(1, 12_005).boxed().toList());
        assertThat(lines.get(0)).extracting(Received::text, Received::stage).containsExactly("cloning", "checkout");
        assertThat(lines.get(1).stage()).isEqualTo("Step 1/2 : FROM busybox");
        assertThat(lines.get(2).stage()).isEqualTo("Step 1/2 : FROM busybox");
        assertThat(lines.subList(3, 12_004)).extracting(Received::stage).containsOnly("Step 2/2 : RUN seq 1 3");
        assertThat(lines.get(12_003).text()).isEqualTo("12000");
        assertThat(lines.get(12_004)).extracting(Received::text, Received::stage).containsExactly("pushed", "push");
        assertThat(lines).extracting(Received::readMicros).isSorted().allSatisfy(m -> assertThat(m).isBetween(before, after));
    }

    @Test
    void aFullBatchGoesAtOnceAndAPartialOneWaitsForTheFlush() throws Exception {
        LogShipper log = start();
        log.stage("build");
        for (int i = 1; i <= 5_001; i++) {
            log.line(Integer.toString(i));
        }
        // No flush() yet: the first 5,000 lines filled a batch, and it went as the 5,000th was read.
        long deadline = System.currentTimeMillis() + 5_000;
        while (received() < 5_000 && System.currentTimeMillis() < deadline) {
            Thread.sleep(10);
        }
        Thread.sleep(200);
        assertThat(received()).isEqualTo(5_000);
        log.flush();
        log.close(10_000);
        assertThat(lines(controller.streams.get(0))).extracting(Received::sequence)
                .containsExactlyElementsOf(LongStream.rangeClosed(1, 5_001).boxed().toList());
    }

    private int received() {
        return controller.streams.stream().mapToInt(stream -> lines(stream).size()).sum();
    }

    @Test
    void linesOfABrokenStreamAreSentAgainOnTheNext() throws Exception {
        LogShipper log = start();
        controller.breakFirst.set(1);
        log.stage("build");
        for (int i = 1; i <= 100; i++) {
            log.line("line " + i);
        }
        log.flush();
        log.close(10_000);

        assertThat(controller.streams).hasSizeGreaterThanOrEqualTo(2);
        assertThat(lines(controller.streams.get(0))).extracting(Received::sequence).startsWith(1L);
        // The next stream starts again from the first unacknowledged line, with the same numbers and texts.
        List<Received> resent = lines(controller.streams.get(controller.streams.size() - 1));
        assertThat(resent).extracting(Received::sequence).containsExactlyElementsOf(LongStream.rangeClosed(1, 100).boxed().toList());
        assertThat(resent).extracting(Received::text).first().isEqualTo("line 1");
        assertThat(resent).extracting(Received::stage).containsOnly("build");
    }

    @Test
    void linesLeftUnacknowledgedByAControllerThatDiedReachItsSuccessorWhenTheBuildEndsMeanwhile() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Controller first = new Controller();
        first.holding.set(true);
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(first).build().start();
        // As the agent's Quarkus client builds it: a direct executor, so a call that fails at once
        // (the channel in TRANSIENT_FAILURE) calls back on the thread that opens it.
        channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().directExecutor().build();
        // As ControllerSession does while its Attach stream is broken.
        session = Executors.newSingleThreadScheduledExecutor();
        session.scheduleWithFixedDelay(channel::resetConnectBackoff, 1, 1, TimeUnit.SECONDS);
        LogShipper log = new LogShipper(AgentServiceGrpc.newStub(channel), "job", 1, () -> { }, 8 << 20, SecretRedactor.of(List.of()));
        log.stage("build");
        for (int i = 1; i <= 5; i++) {
            log.line("line " + i);
        }
        log.flush();
        long sent = System.currentTimeMillis() + 5_000;
        while (first.streams.isEmpty() || lines(first.streams.get(0)).size() < 5) {
            assertThat(System.currentTimeMillis()).isLessThan(sent);
            Thread.sleep(10);
        }

        // The controller dies with the lines unacknowledged, and the build ends while it is down.
        server.shutdownNow().awaitTermination();
        CompletableFuture<Long> closed = CompletableFuture.supplyAsync(() -> {
            log.close(30_000);
            return System.currentTimeMillis();
        });
        Thread.sleep(2_000);
        Controller second = new Controller();
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).addService(second).build().start();
        long restarted = System.currentTimeMillis();

        assertThat(closed.get(40, TimeUnit.SECONDS) - restarted).isLessThan(5_000);
        List<Received> delivered = second.streams.stream().flatMap(s -> lines(s).stream()).toList();
        assertThat(delivered).extracting(Received::sequence).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(delivered).extracting(Received::text).containsExactly("line 1", "line 2", "line 3", "line 4", "line 5");
    }
}
