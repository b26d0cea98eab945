package dev.buildfarm.agent.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.ClaimJobRequest;
import dev.buildfarm.api.v1.ClaimJobResponse;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.Platform;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Server;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;

/**
 * A slot that frees takes the next queued job at once: with every slot busy the consumer is paused,
 * and it must not sleep out a poll before it reads on. Real Kafka (a topic of this run's own); the
 * controller is a fake over real gRPC that grants every claim, and a "build" sleeps.
 */
class JobConsumerSlotTest {

    private static final String KAFKA = System.getProperty("kafka.bootstrap.servers", "127.0.0.1:9092");
    private static final int JOBS = 8;
    private static final long BUILD_MILLIS = 250;

    @Test
    void aFreedSlotClaimsTheNextQueuedJobWithoutWaitingOutAPoll() throws Exception {
        // Native arm64: a consumer group that no agent on an amd64 host joins (deleted afterwards).
        Platform platform = Platform.parse("linux/arm64");
        String prefix = System.getenv().getOrDefault("BUILDFARM_TEST_TOPIC_PREFIX", "buildfarm-test.")
                + "slots-" + UUID.randomUUID().toString().substring(0, 8) + ".";
        String topic = JobTopics.forPlatform(prefix, platform);
        Map<String, Long> claimed = new ConcurrentHashMap<>();
        Map<String, Long> ended = new ConcurrentHashMap<>();
        Server controller = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new AgentServiceGrpc.AgentServiceImplBase() {
                    @Override
                    public void claimJob(ClaimJobRequest request, StreamObserver<ClaimJobResponse> observer) {
                        claimed.put(request.getJobId(), System.nanoTime());
                        observer.onNext(ClaimJobResponse.newBuilder().setGranted(true).setAttempt(1).build());
                        observer.onCompleted();
                    }
                }).build().start();
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", controller.getPort()).usePlaintext().build();
        JobRunner runner = new JobRunner() {
            @Override
            public void run(Claimed job, Platform enginePlatform) {
                try {
                    Thread.sleep(BUILD_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                ended.put(job.job().getJobId(), System.nanoTime());
            }
        };
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA))) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            List<String> jobs = new ArrayList<>();
            try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", KAFKA),
                    new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < JOBS; i++) {
                    String id = UUID.randomUUID().toString();
                    jobs.add(id);
                    producer.send(new ProducerRecord<>(topic, "builds/" + id, PlatformJob.newBuilder().setJobId(id)
                            .setBuildName("builds/" + id).setPlatform(platform.toString()).build().toByteArray())).get();
                }
            }
            JobConsumer consumer = new JobConsumer(KAFKA, prefix, platform, false, "slot-test-" + UUID.randomUUID(),
                    AgentServiceGrpc.newBlockingStub(channel), runner, platform, 1);
            Thread poller = new Thread(consumer, "slot-test-consumer");
            poller.start();
            try {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while (ended.size() < JOBS && System.nanoTime() < deadline) {
                    Thread.sleep(50);
                }
                assertThat(ended).as("jobs built").hasSize(JOBS);
            } finally {
                consumer.stop();
                poller.join(10_000);
                admin.deleteTopics(List.of(topic));
                admin.deleteConsumerGroups(List.of(JobTopics.agentGroup(platform, false))).all().get(30, TimeUnit.SECONDS);
            }
            // One slot: each job is claimed only after the one before it ended. The time between is
            // the consumer's reaction to the freed slot; a paused poll sleeping out its 200 ms made it
            // 0–200 ms (about 100 ms on average) instead of a few.
            List<Long> gaps = new ArrayList<>();
            List<String> order = claimed.entrySet().stream().sorted(Map.Entry.comparingByValue()).map(Map.Entry::getKey).toList();
            for (int i = 1; i < order.size(); i++) {
                long previousEnd = ended.get(order.get(i - 1));
                assertThat(claimed.get(order.get(i))).as("claimed only after the one slot freed").isGreaterThanOrEqualTo(previousEnd);
                gaps.add(TimeUnit.NANOSECONDS.toMillis(claimed.get(order.get(i)) - previousEnd));
            }
            List<Long> sorted = gaps.stream().sorted().toList();
            assertThat(sorted.get(sorted.size() / 2)).as("median ms from a freed slot to the next claim, of %s", gaps).isLessThan(50);
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            controller.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }
}
