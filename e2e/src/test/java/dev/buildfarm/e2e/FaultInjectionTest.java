package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.FinishJobRequest;
import dev.buildfarm.api.v1.FinishJobResponse;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Faults injected into a farm of its own (dev/fault-farm.sh: its own broker, registry, controller,
 * assembler and two agents; `make test-faults`), each case checking the same invariants through
 * {@link FaultInvariants}: every accepted build ends, each platform has at most one winning attempt,
 * and every published tag is an index whose children exist with their platform and digest.
 */
@Tag("faults")
@TestMethodOrder(MethodOrderer.MethodName.class)
class FaultInjectionTest {

    private static final Duration END = Duration.ofMinutes(6);
    private static final List<String> PARTS = List.of("kafka", "registry", "manifest-assembler", "controller", "agent-1", "agent-2");
    private static FaultInvariants invariants;

    @BeforeAll
    static void readEvents() {
        invariants = new FaultInvariants();
    }

    @AfterAll
    static void stopReading() throws Exception {
        if (invariants != null) { // null when the reader could not start: that error is the one to see
            invariants.close();
        }
    }

    /** Whatever a case did, the next starts with every part running and none stopped. */
    @AfterEach
    void restoreTheFarm() {
        for (String part : PARTS) {
            try {
                FaultFarm.signal(part, "CONT");
            } catch (AssertionError | IllegalStateException e) {
                // not running: started below
            }
            FaultFarm.start(part);
        }
    }

    /** A Dockerfile of its own per build (no layer cache hit), whose RUN takes {@code seconds}. */
    private static String dockerfile(int seconds) {
        return "FROM 127.0.0.1:5000/library/busybox:latest\n"
                + "ARG TARGETPLATFORM\n"
                + "RUN echo \"" + UUID.randomUUID() + " building $TARGETPLATFORM\" && sleep " + seconds + " && echo built\n"
                + "RUN echo \"$TARGETPLATFORM\" > /platform\n";
    }

    private static Build submit(String dockerfile, boolean publishPartial, String... platforms) throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", dockerfile));
        String path = "faults/r" + UUID.randomUUID().toString().substring(0, 8);
        return Farm.builds().withDeadlineAfter(30, TimeUnit.SECONDS).submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("faults-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setCommit(repo.commit()))
                        .addAllPlatforms(List.of(platforms))
                        .setRepository(Farm.REGISTRY + "/" + path)
                        .addTags("latest").addTags("v1")
                        .setPublishPartial(publishPartial))
                .build());
    }

    private static Build get(String name) {
        return Farm.builds().withDeadlineAfter(10, TimeUnit.SECONDS).getBuild(GetBuildRequest.newBuilder().setName(name).build());
    }

    private static PlatformBuild platform(String name, String platform) {
        return get(name).getPlatformBuildsList().stream().filter(pb -> pb.getPlatform().equals(platform)).findFirst().orElseThrow();
    }

    /** Waits until the platform runs an attempt after {@code afterAttempt}; answers it. */
    private static PlatformBuild awaitRunning(String name, String platform, int afterAttempt, Duration within) {
        List<PlatformBuild> seen = new ArrayList<>();
        Awaitility.await(name + " " + platform + " running an attempt after " + afterAttempt).atMost(within)
                .pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
                    PlatformBuild pb = platform(name, platform);
                    seen.add(0, pb);
                    return pb.getAttempt() > afterAttempt && pb.getState() != Build.State.QUEUED;
                });
        return seen.get(0);
    }

    @Test
    void a_agentKilledMidBuild() throws Exception {
        Build build = submit(dockerfile(8), false, "linux/amd64", "linux/arm64");
        PlatformBuild running = awaitRunning(build.getName(), "linux/amd64", 0, END);
        FaultFarm.signal(FaultFarm.partOfAgent(running.getAgent()), "KILL");
        long killed = System.nanoTime();
        PlatformBuild rerun = awaitRunning(build.getName(), "linux/amd64", running.getAttempt(), Duration.ofSeconds(60));
        System.out.printf("agent kill -9 to rerun: %.1f s (attempt %d on %s)%n", (System.nanoTime() - killed) / 1e9,
                rerun.getAttempt(), rerun.getAgent());

        Build done = invariants.check(build.getName(), END);
        assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
    }

    @Test
    void b_agentStoppedPastItsLeaseThenContinued() throws Exception {
        Build build = submit(dockerfile(20), false, "linux/amd64");
        PlatformBuild running = awaitRunning(build.getName(), "linux/amd64", 0, END);
        String part = FaultFarm.partOfAgent(running.getAgent());
        FaultFarm.signal(part, "STOP");
        // Its lease (10 s) runs out; another attempt starts while the stopped agent still thinks it builds.
        PlatformBuild rerun = awaitRunning(build.getName(), "linux/amd64", running.getAttempt(), Duration.ofSeconds(60));
        assertThat(rerun.getAgent()).isNotEqualTo(running.getAgent());
        FaultFarm.signal(part, "CONT");

        Build done = invariants.check(build.getName(), END);
        assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        assertThat(done.getPlatformBuilds(0).getAttempt()).isGreaterThan(running.getAttempt());
    }

    @Test
    void c_controllerKilledBetweenCommitAndDispatch() throws Exception {
        // The broker frozen, the relay cannot send: the builds are committed with their jobs in the outbox.
        FaultFarm.signal("kafka", "STOP");
        List<Build> builds = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                builds.add(submit(dockerfile(1), false, "linux/amd64"));
            }
            Thread.sleep(1_000);
            FaultFarm.signal("controller", "KILL");
        } finally {
            FaultFarm.signal("kafka", "CONT");
        }
        FaultFarm.start("controller");
        for (Build build : builds) {
            Build done = invariants.check(build.getName(), END);
            assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        }
    }

    @Test
    void d_brokerKilledAndRestartedDuringDispatch() throws Exception {
        List<Build> builds = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            builds.add(submit(dockerfile(1), false, "linux/amd64"));
            if (i == 1) {
                FaultFarm.signal("kafka", "KILL");
            }
        }
        Thread.sleep(2_000);
        FaultFarm.start("kafka");
        for (Build build : builds) {
            Build done = invariants.check(build.getName(), END);
            assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        }
    }

    @Test
    void e_registryStoppedDuringPublication() throws Exception {
        // The assembler held back until the build waits to be published, so the registry is down
        // exactly while the publication is tried.
        FaultFarm.stop("manifest-assembler");
        Build build = submit(dockerfile(1), false, "linux/amd64");
        Awaitility.await("publishing").atMost(END).pollInterval(Duration.ofMillis(200))
                .until(() -> get(build.getName()).getState() == Build.State.PUBLISHING);
        FaultFarm.signal("registry", "KILL");
        FaultFarm.start("manifest-assembler");
        // The controller retries the publication every 5 s; each try finds the registry unreachable.
        Thread.sleep(15_000);
        assertThat(get(build.getName()).getState()).isEqualTo(Build.State.PUBLISHING);
        FaultFarm.start("registry");

        Build done = invariants.check(build.getName(), END);
        assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
    }

    @Test
    void f_duplicateAndLateDigestReports() throws Exception {
        Build build = submit(dockerfile(12), false, "linux/amd64");
        PlatformBuild first = awaitRunning(build.getName(), "linux/amd64", 0, END);
        String part = FaultFarm.partOfAgent(first.getAgent());
        FaultFarm.signal(part, "STOP");
        awaitRunning(build.getName(), "linux/amd64", first.getAttempt(), Duration.ofSeconds(60));
        FaultFarm.signal(part, "CONT");
        Build done = invariants.check(build.getName(), END);
        assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        PlatformBuild won = done.getPlatformBuilds(0);
        String jobId = jobOf(build.getName(), "linux/amd64").getJobId();
        AgentServiceGrpc.AgentServiceBlockingStub agents = AgentServiceGrpc.newBlockingStub(Farm.channel())
                .withDeadlineAfter(10, TimeUnit.SECONDS);
        String staging = Farm.REGISTRY + "/buildfarm-staging/" + done.getSpec().getRepository().substring(Farm.REGISTRY.length() + 1);

        // The winner's report again (its answer was lost): the same answer.
        FinishJobResponse again = agents.finishJob(FinishJobRequest.newBuilder().setJobId(jobId).setAttempt(won.getAttempt())
                .setDigest(won.getDigest()).setRepository(staging).build());
        assertThat(again.getBuildState()).isEqualTo(Build.State.SUCCEEDED);
        // The stopped attempt's report, late and with another digest: refused.
        StatusRuntimeException late = catchThrowableOfType(StatusRuntimeException.class, () -> agents.finishJob(FinishJobRequest.newBuilder()
                .setJobId(jobId).setAttempt(first.getAttempt()).setDigest("sha256:" + "0".repeat(64)).setRepository(staging).build()));
        assertThat(late.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(late.getStatus().getDescription()).contains("attempt " + first.getAttempt());

        Build after = invariants.check(build.getName(), END);
        assertThat(after.getIndexDigest()).isEqualTo(done.getIndexDigest());
        assertThat(after.getPlatformBuilds(0).getDigest()).isEqualTo(won.getDigest());
        assertThat(after.getPlatformBuilds(0).getAttempt()).isEqualTo(won.getAttempt());
    }

    @Test
    void g_oneStepFailingFailsTheBuildOrPublishesTheOthers() throws Exception {
        String failsOnArm64 = "FROM 127.0.0.1:5000/library/busybox:latest\n"
                + "ARG TARGETPLATFORM\n"
                + "RUN echo \"" + UUID.randomUUID() + " $TARGETPLATFORM\" && test \"$TARGETPLATFORM\" != linux/arm64\n";
        Build strict = submit(failsOnArm64, false, "linux/amd64", "linux/arm64");
        Build partial = submit(failsOnArm64, true, "linux/amd64", "linux/arm64");

        Build failed = invariants.check(strict.getName(), END);
        assertThat(failed.getState()).isEqualTo(Build.State.FAILED);
        assertThat(failed.getIndexDigest()).isEmpty();

        Build published = invariants.check(partial.getName(), END);
        assertThat(published.getState()).as(published.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        String path = published.getSpec().getRepository().substring(Farm.REGISTRY.length() + 1);
        Registry.Document index = Registry.manifest(path, "latest");
        assertThat(index.json().path("manifests")).hasSize(1);
        assertThat(index.json().path("annotations").path("dev.buildfarm.missing-platforms").asText()).isEqualTo("linux/arm64");
    }

    @Test
    void h_controllerKilledMidBuildAndRestartedAfterItEnded() throws Exception {
        Build build = submit(dockerfile(4), false, "linux/amd64");
        PlatformBuild running = awaitRunning(build.getName(), "linux/amd64", 0, END);
        FaultFarm.signal("controller", "KILL");
        // The build ends while no controller listens: the agent keeps offering its result.
        Thread.sleep(12_000);
        FaultFarm.start("controller");

        Build done = invariants.check(build.getName(), END);
        assertThat(done.getState()).as(done.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        // Taken from the agent that built it, not run again.
        assertThat(done.getPlatformBuilds(0).getAttempt()).isEqualTo(running.getAttempt());
    }

    @Test
    void i_drainedAgentLeavesItsGroupAndABusyAgentTakesNoSecondJob() throws Exception {
        Build first = submit(dockerfile(30), false, "linux/amd64");
        PlatformBuild running = awaitRunning(first.getName(), "linux/amd64", 0, END);
        String busy = FaultFarm.partOfAgent(running.getAgent());
        String other = busy.equals("agent-1") ? "agent-2" : "agent-1";
        // SIGTERM: the idle agent drains at once and leaves the group (a static member would otherwise
        // keep its partitions for its whole session).
        FaultFarm.stop(other);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", Farm.KAFKA))) {
            Awaitility.await("fault-" + other + " out of the amd64 group").atMost(Duration.ofSeconds(3))
                    .pollInterval(Duration.ofMillis(200)).until(() -> admin.describeConsumerGroups(List.of("buildfarm-agents-linux-amd64"))
                            .all().get().get("buildfarm-agents-linux-amd64").members().stream()
                            .noneMatch(m -> m.groupInstanceId().orElse("").startsWith("fault-" + other + "-")));
        }
        // Every partition is now the busy agent's: it pauses them, so the next job waits for it.
        Build second = submit(dockerfile(1), false, "linux/amd64");
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
        while (System.nanoTime() < until && platform(first.getName(), "linux/amd64").getState() == Build.State.RUNNING) {
            assertThat(platform(second.getName(), "linux/amd64").getState()).as("the second job while the first runs")
                    .isEqualTo(Build.State.QUEUED);
            Thread.sleep(250);
        }
        Build firstDone = invariants.check(first.getName(), END);
        Build secondDone = invariants.check(second.getName(), END);
        assertThat(firstDone.getState()).isEqualTo(Build.State.SUCCEEDED);
        assertThat(firstDone.getPlatformBuilds(0).getAttempt()).isEqualTo(running.getAttempt());
        assertThat(secondDone.getState()).isEqualTo(Build.State.SUCCEEDED);
        assertThat(secondDone.getPlatformBuilds(0).getAttempt()).isEqualTo(1);
        assertThat(secondDone.getPlatformBuilds(0).getAgent()).isEqualTo("fault-" + busy);
    }

    /** The job the controller dispatched for a build's platform, read from the fault farm's job topic. */
    private static PlatformJob jobOf(String buildName, String platform) throws Exception {
        Properties config = new Properties();
        config.put("bootstrap.servers", Farm.KAFKA);
        String topic = "buildfarm.jobs." + platform.replace('/', '-');
        try (KafkaConsumer<String, byte[]> kafka = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = kafka.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            kafka.assign(partitions);
            kafka.seekToBeginning(partitions);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            Predicate<PlatformJob> wanted = job -> job.getBuildName().equals(buildName);
            while (System.nanoTime() < until) {
                for (ConsumerRecord<String, byte[]> record : kafka.poll(Duration.ofMillis(500))) {
                    PlatformJob job = parse(record.value());
                    if (job != null && wanted.test(job)) {
                        return job;
                    }
                }
            }
        }
        throw new AssertionError("no job of " + buildName + " on " + topic);
    }

    private static PlatformJob parse(byte[] value) {
        try {
            return PlatformJob.parseFrom(value);
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
    }
}
