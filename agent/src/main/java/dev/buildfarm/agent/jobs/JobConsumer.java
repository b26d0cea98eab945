package dev.buildfarm.agent.jobs;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.Durations;
import dev.buildfarm.api.v1.AgentServiceGrpc.AgentServiceBlockingStub;
import dev.buildfarm.api.v1.ClaimJobRequest;
import dev.buildfarm.api.v1.ClaimJobResponse;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.LogContext;
import dev.buildfarm.common.Platform;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.Collection;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * Reads one platform's job topic. A job is claimed before its offset is committed; builds run on
 * worker threads (one per slot) while the poll loop stays alive, with its partitions paused once
 * every slot is taken, because a build lasts far longer than Kafka's max.poll.interval.ms. The slots
 * share one consumer, so a job on any of its partitions goes to whichever slot is free.
 */
final class JobConsumer implements Runnable {

    private static final Logger LOG = Logger.getLogger(JobConsumer.class);
    /** Longest pause before asking again for a job the controller holds back for a native agent. */
    private static final long RETRY_CLAIM_MAX_MILLIS = 2_000;

    private final Platform platform;
    private final String topic;
    private final boolean emulated;
    private final String agentName;
    private final AgentServiceBlockingStub controller;
    private final JobRunner runner;
    private final Platform enginePlatform;
    private final KafkaConsumer<String, byte[]> consumer;
    private final ExecutorService worker;
    private final int slots;
    /** Builds running now, at most {@code slots}; read by the agent's reporter thread too. */
    private final List<Future<?>> builds = new CopyOnWriteArrayList<>();
    /** Released when a build ends, so a paused poll loop resumes at once rather than after its poll. */
    private final Semaphore slotFreed = new Semaphore(0);
    private volatile boolean running = true;

    JobConsumer(String bootstrapServers, String topicPrefix, Platform platform, boolean emulated, String agentName,
                AgentServiceBlockingStub controller, JobRunner runner, Platform enginePlatform, int slots) {
        if (slots < 1) {
            throw new IllegalArgumentException("buildfarm.agent.slots for " + platform + " must be at least 1, was " + slots);
        }
        this.platform = platform;
        this.slots = slots;
        this.topic = JobTopics.forPlatform(topicPrefix, platform);
        this.emulated = emulated;
        this.agentName = agentName;
        this.controller = controller;
        this.runner = runner;
        this.enginePlatform = enginePlatform;
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        // Native and emulating agents read in groups of their own, so each kind sees every job of the
        // platform and the controller's claim decides (native first, by the build's emulation policy).
        config.put(ConsumerConfig.GROUP_ID_CONFIG, JobTopics.agentGroup(platform, emulated));
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, agentName + "-" + platform.slug());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        // Static membership: a restarted agent takes its partitions back at once, without a rebalance;
        // a dead one gives them up after a short session timeout instead of Kafka's 45 s default, or
        // sooner when the controller, seeing its connection gone, removes it from the group.
        config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, JobTopics.agentMember(agentName, platform));
        // 6 s is the broker's smallest allowed session (group.min.session.timeout.ms). A rebalance
        // reaches the live members with their next heartbeat: every second, so a dead agent's
        // partitions (and the jobs queued again on them) move within about a second of its removal.
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 6_000);
        config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, 1_000);
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        this.worker = Executors.newFixedThreadPool(slots, r -> new Thread(r, "build-" + platform.slug()));
    }

    @Override
    public void run() {
        try {
            consumer.subscribe(List.of(topic), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    // Partitions handed over mid-build (another agent left) would otherwise be read
                    // at once and a second job claimed while this agent is at capacity.
                    boolean paused = busy();
                    if (paused) {
                        consumer.pause(partitions);
                    }
                    LOG.infof("%s partitions assigned: %s%s", platform, partitions, paused ? " (paused: building)" : "");
                }
            });
            while (running) {
                try {
                    if (busy()) {
                        // Paused: a poll would only sleep out its timeout, and a slot freed meanwhile
                        // would wait for it. Wait for the slot instead, then poll without blocking.
                        slotFreed.tryAcquire(200, TimeUnit.MILLISECONDS);
                    }
                    if (builds.removeIf(Future::isDone) && !busy()) {
                        consumer.resume(consumer.paused());
                    }
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(busy() ? Duration.ZERO : Duration.ofMillis(200))) {
                        handle(record);
                    }
                } catch (WakeupException e) {
                    throw e;
                } catch (InterruptedException e) {
                    return; // stopped like a wakeup: the finally below leaves the group
                } catch (RuntimeException e) {
                    // A consumer that gave up here would leave its platform unserved for good.
                    LOG.errorf(e, "consumer of %s failed; going on", platform);
                    sleep(1_000);
                }
            }
        } catch (WakeupException e) {
            // Shutting down.
        } finally {
            // A static member does not leave its group on a plain close (its partitions would wait out
            // the session): leave explicitly, so a draining agent's partitions move to the others now.
            consumer.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                    .withTimeout(Duration.ofSeconds(5)));
        }
    }

    private void handle(ConsumerRecord<String, byte[]> record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        if (busy()) {
            // At capacity (a record read in the same poll as a rebalance): leave it for later or another agent.
            consumer.seek(partition, record.offset());
            consumer.pause(consumer.assignment());
            return;
        }
        PlatformJob job;
        try {
            job = PlatformJob.parseFrom(record.value());
        } catch (InvalidProtocolBufferException e) {
            LOG.errorf("skipping an unreadable job at %s offset %d", partition, record.offset());
            commit(partition, record.offset());
            return;
        }
        try (LogContext context = LogContext.open().build(job.getBuildName()).platform(job.getPlatform()).agent(agentName)) {
            claim(job, partition, record.offset(), record.timestamp());
        }
    }

    private void claim(PlatformJob job, TopicPartition partition, long offset, long recordTime) {
        ClaimJobResponse claim;
        try {
            claim = controller.withDeadlineAfter(10, TimeUnit.SECONDS).claimJob(ClaimJobRequest.newBuilder()
                    .setJobId(job.getJobId()).setAgent(agentName).setEmulated(emulated).setOldestFirst(true).build());
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.NOT_FOUND || code == Status.Code.INVALID_ARGUMENT) {
                // This controller does not know the job: it can never be claimed, so skip it.
                LOG.warnf("skipping job %s: %s", job.getJobId(), e.getStatus().getDescription());
                commit(partition, offset);
                return;
            }
            // Not committed: read the job again after a pause.
            LOG.warnf("claim of job %s failed (%s); retrying", job.getJobId(), e.getStatus());
            consumer.seek(partition, offset);
            sleep(1_000);
            return;
        }
        if (!claim.getGranted() && claim.hasRetryAfter() && Durations.toMillis(claim.getRetryAfter()) > 0) {
            // Not this agent's yet (a native agent may still take it): ask again shortly, not committed.
            consumer.seek(partition, offset);
            sleep(Math.min(Durations.toMillis(claim.getRetryAfter()), RETRY_CLAIM_MAX_MILLIS));
            return;
        }
        commit(partition, offset);
        if (!claim.getGranted()) {
            LOG.infof("job %s (%s) not claimed: %s", job.getJobId(), platform, claim.getReason());
            return;
        }
        // The controller may grant the platform's oldest waiting job instead (a job queued again after
        // its agent was lost goes first); it sends the one read here to the topic again.
        PlatformJob granted = claim.hasJob() ? claim.getJob() : job;
        LOG.infof("claimed job %s of %s for %s, attempt %d%s (read %s at %s offset %d, sent %d ms ago)", granted.getJobId(),
                granted.getBuildName(), platform, claim.getAttempt(), emulated ? " (emulated)" : "", job.getJobId(), partition, offset,
                System.currentTimeMillis() - recordTime);
        Optional<SourceCredentials> credentials = claim.hasSourceCredentials() ? Optional.of(claim.getSourceCredentials()) : Optional.empty();
        JobRunner.Claimed claimed = new JobRunner.Claimed(granted, claim.getAttempt(), agentName, credentials,
                claim.getSecretBuildArgsMap(), claim.hasRegistryAuth() ? Optional.of(claim.getRegistryAuth()) : Optional.empty());
        CompletableFuture<Void> build = CompletableFuture.runAsync(() -> runner.run(claimed, enginePlatform), worker);
        build.whenComplete((done, failure) -> slotFreed.release()); // runs once isDone() holds
        builds.add(build);
        if (busy()) {
            consumer.pause(consumer.assignment());
        }
    }

    private void commit(TopicPartition partition, long offset) {
        try {
            consumer.commitSync(Map.of(partition, new OffsetAndMetadata(offset + 1)));
        } catch (CommitFailedException | RebalanceInProgressException e) {
            // The group moved on without this consumer (away past its session): the job may be read
            // again, by this agent or another, and the claim then refuses it. A granted claim still runs.
            LOG.warnf("offset commit for %s failed (%s); the job may be read again", partition, e.getMessage());
        }
    }

    Platform platform() {
        return platform;
    }

    boolean emulated() {
        return emulated;
    }

    /** True while every slot has a build. */
    boolean busy() {
        return running() >= slots;
    }

    /** Builds running now. */
    int running() {
        return (int) builds.stream().filter(build -> !build.isDone()).count();
    }

    int slots() {
        return slots;
    }

    void stop() {
        running = false;
        slotFreed.release();
        consumer.wakeup();
        worker.shutdown();
    }

    /** Waits for the running builds, if any, to finish. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        return worker.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
