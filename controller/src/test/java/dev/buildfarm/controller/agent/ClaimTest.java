package dev.buildfarm.controller.agent;

import static dev.buildfarm.controller.rules.ControllerApi.uniqueId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.ClaimJobRequest;
import dev.buildfarm.api.v1.ClaimJobResponse;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.FinishJobRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.RunBuildRuleRequest;
import dev.buildfarm.api.v1.SourceBinding;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.Platform;
import dev.buildfarm.controller.LogCapture;
import dev.buildfarm.controller.rules.ControllerApi;
import dev.buildfarm.controller.rules.GitFixture;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * ClaimJob over gRPC, as an agent calls it, on jobs read from the real job topic: a private source's
 * credentials and a build's secret build argument values reach only the agent holding the claim, and the controller's log of the claim carries
 * the build, platform, attempt and agent.
 */
@QuarkusTest
class ClaimTest {

    private static final String PASSWORD = "token-" + UUID.randomUUID();
    private static final SourceCredentials CREDENTIALS = SourceCredentials.newBuilder().setUsername("ci-reader").setPassword(PASSWORD).build();
    private static GitFixture git;

    @ConfigProperty(name = "buildfarm.kafka.topic-prefix")
    String topicPrefix;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @Inject
    DataSource dataSource;

    @Inject
    AgentJobs jobs;

    private ControllerApi api;
    private ManagedChannel channel;
    private AgentServiceGrpc.AgentServiceBlockingStub agents;

    @BeforeAll
    static void source() throws Exception {
        git = GitFixture.create();
    }

    @AfterAll
    static void removeSource() throws Exception {
        git.close();
    }

    @BeforeEach
    void clients() {
        api = new ControllerApi();
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", api.port).usePlaintext().build();
        agents = AgentServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        api.close();
    }

    @Test
    void onlyTheAgentHoldingTheClaimGetsThePrivateSourcesCredentials() throws Exception {
        String repositoryId = uniqueId("private");
        api.rules.createRepository(CreateRepositoryRequest.newBuilder().setRepositoryId(repositoryId)
                .setRepository(Repository.newBuilder().setImage(ControllerApi.IMAGE)
                        .setSource(SourceBinding.newBuilder().setUrl(git.url).setCredentials(CREDENTIALS)))
                .build());
        BuildRule rule = api.createRule(repositoryId, "main", BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH)
                .setRefPattern("main").addTags(TagConfig.newBuilder().setTemplate("latest")).addPlatforms("linux/amd64").build());

        try (LogCapture logs = new LogCapture();
             KafkaConsumer<String, byte[]> jobs = consumerAtEnd(JobTopics.forPlatform(topicPrefix, Platform.parse("linux/amd64")));
             KafkaConsumer<String, byte[]> events = consumerAtEnd(JobTopics.events(topicPrefix))) {
            Build fired = api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName(rule.getName()).build());
            // The same source submitted directly: naming a repository's URL must not borrow its credentials.
            Build direct = api.builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(BuildSpec.newBuilder()
                    .setSource(GitSource.newBuilder().setUrl(git.url).setCommit(git.head("main")))
                    .addPlatforms("linux/amd64").setRepository(ControllerApi.IMAGE).addTags("direct")).build());

            List<ConsumerRecord<String, byte[]>> jobRecords = readUntil(jobs, seen -> jobOf(seen, fired) != null && jobOf(seen, direct) != null);
            jobRecords.forEach(r -> assertThat(new String(r.value(), StandardCharsets.UTF_8)).as("the Kafka job").doesNotContain(PASSWORD));

            ClaimJobResponse claim = claim(jobOf(jobRecords, fired));
            assertThat(claim.getGranted()).isTrue();
            assertThat(claim.getSourceCredentials()).isEqualTo(CREDENTIALS);
            ClaimJobResponse directClaim = claim(jobOf(jobRecords, direct));
            assertThat(directClaim.getGranted()).isTrue();
            assertThat(directClaim.hasSourceCredentials()).isFalse();

            // Both claims' events, up to the platform builds running, say nothing of the credentials.
            List<ConsumerRecord<String, byte[]>> eventRecords = readUntil(events,
                    seen -> running(seen, fired) && running(seen, direct));
            eventRecords.forEach(r -> assertThat(new String(r.value(), StandardCharsets.UTF_8)).as("an event").doesNotContain(PASSWORD));

            assertThat(api.builds.getBuild(GetBuildRequest.newBuilder().setName(fired.getName()).build()).toString())
                    .doesNotContain(PASSWORD);
            assertThat(api.builds.listBuilds(ListBuildsRequest.newBuilder().setRule(rule.getName()).build()).toString())
                    .doesNotContain(PASSWORD);
            assertThat(logs.records()).noneMatch(r -> r.message().contains(PASSWORD));

            finish(jobOf(jobRecords, fired), claim.getAttempt());
            finish(jobOf(jobRecords, direct), directClaim.getAttempt());
        }
    }

    @Test
    void secretBuildArgumentValuesReachOnlyTheAgentHoldingTheClaim() throws Exception {
        String secret = "canary-" + UUID.randomUUID();
        BuildSpec spec = BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl(git.url).setCommit(git.head("main")))
                .addPlatforms("linux/amd64").setRepository(ControllerApi.IMAGE).addTags("secret")
                .putBuildArgs("VERSION", "1.0").putSecretBuildArgs("NPM_TOKEN", secret).build();
        String requestId = uniqueId("secret");
        try (LogCapture logs = new LogCapture();
             KafkaConsumer<String, byte[]> jobs = consumerAtEnd(JobTopics.forPlatform(topicPrefix, Platform.parse("linux/amd64")));
             KafkaConsumer<String, byte[]> events = consumerAtEnd(JobTopics.events(topicPrefix))) {
            Build build = api.builds.submitBuild(SubmitBuildRequest.newBuilder().setRequestId(requestId).setSpec(spec).build());
            assertThat(build.getSpec().getSecretBuildArgsMap()).containsExactly(Map.entry("NPM_TOKEN", "****"));
            assertThat(build.getSpec().getBuildArgsMap()).containsExactly(Map.entry("VERSION", "1.0"));
            // The same request again is the same build; with another secret value it is another request.
            assertThat(api.builds.submitBuild(SubmitBuildRequest.newBuilder().setRequestId(requestId).setSpec(spec).build()).getName())
                    .isEqualTo(build.getName());
            assertThatThrownBy(() -> api.builds.submitBuild(SubmitBuildRequest.newBuilder().setRequestId(requestId)
                    .setSpec(spec.toBuilder().putSecretBuildArgs("NPM_TOKEN", "other")).build()))
                    .hasMessageContaining("INVALID_ARGUMENT").hasMessageNotContaining(secret);

            List<ConsumerRecord<String, byte[]>> jobRecords = readUntil(jobs, seen -> jobOf(seen, build) != null);
            PlatformJob job = jobOf(jobRecords, build);
            assertThat(job.getSpec().getSecretBuildArgsMap()).containsExactly(Map.entry("NPM_TOKEN", "****"));
            jobRecords.forEach(r -> assertThat(new String(r.value(), StandardCharsets.UTF_8)).as("the Kafka job").doesNotContain(secret));

            ClaimJobResponse claim = claim(job);
            assertThat(claim.getGranted()).isTrue();
            assertThat(claim.getSecretBuildArgsMap()).containsExactly(Map.entry("NPM_TOKEN", secret));
            assertThat(claim(job).getSecretBuildArgsMap()).as("a refused claim").isEmpty();

            List<ConsumerRecord<String, byte[]>> eventRecords = readUntil(events, seen -> running(seen, build));
            eventRecords.forEach(r -> assertThat(new String(r.value(), StandardCharsets.UTF_8)).as("an event").doesNotContain(secret));
            assertThat(api.builds.getBuild(GetBuildRequest.newBuilder().setName(build.getName()).build()).toString())
                    .contains("****").doesNotContain(secret);
            assertThat(api.builds.listBuilds(ListBuildsRequest.newBuilder().setRepository(ControllerApi.IMAGE).build()).toString())
                    .doesNotContain(secret);
            try (Connection db = dataSource.getConnection();
                 PreparedStatement row = db.prepareStatement("select b::text, sealed_secrets from build b where id = ?::uuid")) {
                row.setString(1, build.getName().substring("builds/".length()));
                try (ResultSet rs = row.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).as("the build row").contains("****").doesNotContain(secret);
                    assertThat(new String(rs.getBytes(2), StandardCharsets.ISO_8859_1)).as("the sealed values").doesNotContain(secret);
                }
            }
            assertThat(logs.records()).noneMatch(r -> r.message().contains(secret));
            finish(job, claim.getAttempt());
        }
    }

    @Test
    void theClaimIsLoggedWithItsBuildPlatformAttemptAndAgent() throws Exception {
        try (LogCapture logs = new LogCapture();
             KafkaConsumer<String, byte[]> jobs = consumerAtEnd(JobTopics.forPlatform(topicPrefix, Platform.parse("linux/arm/v7")))) {
            Build build = api.builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(BuildSpec.newBuilder()
                    .setSource(GitSource.newBuilder().setUrl(git.url).setCommit(git.head("main")))
                    .addPlatforms("linux/arm/v7").setRepository(ControllerApi.IMAGE).addTags("logged")).build());
            PlatformJob job = jobOf(readUntil(jobs, seen -> jobOf(seen, build) != null), build);
            int attempt = claim(job).getAttempt();
            finish(job, attempt);

            assertThat(logs.records()).filteredOn(r -> r.message().startsWith("attempt 1 claimed by rpi4-07"))
                    .singleElement().extracting(LogCapture.Captured::context)
                    .isEqualTo(Map.of("build", build.getName(), "platform", "linux/arm/v7", "attempt", "1", "agent", "rpi4-07"));
            assertThat(logs.records()).filteredOn(r -> r.message().startsWith("failed: test over"))
                    .singleElement().extracting(LogCapture.Captured::context)
                    .isEqualTo(Map.of("build", build.getName(), "platform", "linux/arm/v7", "attempt", "1", "agent", "rpi4-07"));
        }
    }

    @Test
    void aJobQueuedAgainAfterItsAgentWasLostIsGrantedBeforeANewerOne() throws Exception {
        Platform platform = Platform.parse("linux/arm/v6");
        try (KafkaConsumer<String, byte[]> topic = consumerAtEnd(JobTopics.forPlatform(topicPrefix, platform))) {
            Build first = submit("linux/arm/v6", "first");
            PlatformJob requeued = jobOf(readUntil(topic, seen -> jobOf(seen, first) != null), first);
            ClaimJobResponse lostAttempt = claimOldestFirst(requeued, "lost-agent", Set.of(requeued.getJobId()));
            assertThat(lostAttempt.getGranted()).isTrue();
            assertThat(lostAttempt.getAttempt()).isEqualTo(1);

            Build second = submit("linux/arm/v6", "second");
            PlatformJob newer = jobOf(readUntil(topic, seen -> jobOf(seen, second) != null), second);
            // The lost agent's lease runs out: its job is queued again, behind the newer job on the topic.
            assertThat(jobs.expireLease(UUID.fromString(requeued.getJobId()), Instant.now().plus(Duration.ofMinutes(5)))).isTrue();

            // The surviving agent reads the newer job, but is granted the older one queued again.
            ClaimJobResponse survivor = claimOldestFirst(newer, "survivor", Set.of(requeued.getJobId(), newer.getJobId()));
            assertThat(survivor.getGranted()).isTrue();
            assertThat(survivor.getJob().getJobId()).as("the job granted").isEqualTo(requeued.getJobId());
            assertThat(survivor.getJob().getBuildName()).isEqualTo(first.getName());
            assertThat(survivor.getAttempt()).isEqualTo(2);
            assertThat(platformState(second)).isEqualTo(Build.State.QUEUED);

            // The newer job is on its topic again, and the next agent reading it gets it.
            readUntil(topic, seen -> jobsOf(seen, second) >= 1);
            ClaimJobResponse next = claimOldestFirst(newer, "next-agent", Set.of(newer.getJobId()));
            assertThat(next.getGranted()).isTrue();
            assertThat(next.hasJob()).as("the job asked for itself").isFalse();
            assertThat(next.getAttempt()).isEqualTo(1);
            // The record of the attempt queued again is stale now: refused, one winner.
            assertThat(claim(requeued).getGranted()).isFalse();
            finish(requeued, survivor.getAttempt());
            finish(newer, next.getAttempt());
        }
    }

    private Build submit(String platform, String tag) throws Exception {
        return api.builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl(git.url).setCommit(git.head("main")))
                .addPlatforms(platform).setRepository(ControllerApi.IMAGE).addTags(tag)).build());
    }

    /**
     * A claim as agents make it (oldest first). Jobs other tests left waiting on the platform are older
     * still and are granted first, as they should be: they are failed here until one of {@code ours} comes.
     */
    private ClaimJobResponse claimOldestFirst(PlatformJob job, String agent, Set<String> ours) {
        for (int i = 0; i < 50; i++) {
            ClaimJobResponse claim = agents.withDeadlineAfter(30, TimeUnit.SECONDS).claimJob(ClaimJobRequest.newBuilder()
                    .setJobId(job.getJobId()).setAgent(agent).setOldestFirst(true).build());
            if (!claim.hasJob() || ours.contains(claim.getJob().getJobId())) {
                return claim;
            }
            finish(claim.getJob(), claim.getAttempt());
        }
        throw new AssertionError("more than 50 older jobs waiting on " + job.getPlatform());
    }

    private Build.State platformState(Build build) {
        return api.builds.getBuild(GetBuildRequest.newBuilder().setName(build.getName()).build()).getPlatformBuilds(0).getState();
    }

    private static int jobsOf(List<ConsumerRecord<String, byte[]>> records, Build build) {
        int count = 0;
        for (ConsumerRecord<String, byte[]> record : records) {
            try {
                if (PlatformJob.parseFrom(record.value()).getBuildName().equals(build.getName())) {
                    count++;
                }
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        return count;
    }

    private ClaimJobResponse claim(PlatformJob job) {
        return agents.withDeadlineAfter(30, TimeUnit.SECONDS)
                .claimJob(ClaimJobRequest.newBuilder().setJobId(job.getJobId()).setAgent("rpi4-07").build());
    }

    private void finish(PlatformJob job, int attempt) {
        agents.withDeadlineAfter(30, TimeUnit.SECONDS).finishJob(FinishJobRequest.newBuilder().setJobId(job.getJobId())
                .setAttempt(attempt).setFailureReason("test over").build());
    }

    private KafkaConsumer<String, byte[]> consumerAtEnd(String topic) {
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of("bootstrap.servers", bootstrapServers,
                "enable.auto.commit", false), new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        // Resolve the end offsets now, before the test sends anything.
        partitions.forEach(consumer::position);
        return consumer;
    }

    private static List<ConsumerRecord<String, byte[]>> readUntil(KafkaConsumer<String, byte[]> consumer,
                                                                  Predicate<List<ConsumerRecord<String, byte[]>>> done) {
        List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.test(seen)) {
            assertThat(System.nanoTime()).as("records awaited on Kafka").isLessThan(deadline);
            consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
        }
        return seen;
    }

    private static PlatformJob jobOf(List<ConsumerRecord<String, byte[]>> records, Build build) {
        for (ConsumerRecord<String, byte[]> record : records) {
            try {
                PlatformJob job = PlatformJob.parseFrom(record.value());
                if (job.getBuildName().equals(build.getName())) {
                    return job;
                }
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new AssertionError(e);
            }
        }
        return null;
    }

    private static boolean running(List<ConsumerRecord<String, byte[]>> events, Build build) {
        return events.stream().anyMatch(r -> build.getName().equals(r.key())
                && new String(r.value(), StandardCharsets.UTF_8).contains("dev.buildfarm.platform_build.running.v1"));
    }
}
