package dev.buildfarm.controller.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.AttachRequest;
import dev.buildfarm.api.v1.AttachResponse;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.Test;

/**
 * The Attach stream over real gRPC: an agent whose connection closes for good loses its leases at
 * once and its job goes to a new attempt; one that attaches again within the grace keeps them.
 */
@QuarkusTest
class AgentConnectionsTest {

    private static final int PORT = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);

    @Inject
    AgentJobs jobs;

    @Inject
    BuildStore store;

    @Inject
    AgentConnections connections;

    @Inject
    AgentRegistry agents;

    /** An agent process: its own connection, holding an Attach stream. */
    private static ManagedChannel attachedAgent(String agent) {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", PORT).usePlaintext().build();
        Metadata name = new Metadata();
        name.put(Metadata.Key.of(AgentConnections.AGENT_HEADER, Metadata.ASCII_STRING_MARSHALLER), agent);
        AgentServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(name)).attach(AttachRequest.newBuilder().setAgent(agent).build(), new StreamObserver<>() {
            @Override
            public void onNext(AttachResponse value) {
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        return channel;
    }

    private UUID claimedJob(String agent) {
        BuildEntity build = store.create("", BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("f".repeat(40)))
                .addPlatforms("linux/amd64").setRepository("127.0.0.1:5000/attach/test").addTags("latest")
                .setDockerfileName("Dockerfile").build(), "f".repeat(40), Trigger.newBuilder().setKind(Trigger.Kind.API).build());
        UUID job = build.platformBuilds.get(0).id;
        assertThat(jobs.claim(job.toString(), agent, false).granted()).isTrue();
        return job;
    }

    private static PlatformBuildEntity read(UUID job) {
        return QuarkusTransaction.requiringNew().call(() -> PlatformBuildEntity.findById(job));
    }

    @Test
    void anAgentWhoseConnectionClosesLosesItsJobWithinSeconds() throws Exception {
        String agent = "attach-gone-" + UUID.randomUUID().toString().substring(0, 8);
        ManagedChannel channel = attachedAgent(agent);
        Thread.sleep(300); // the stream is open on the controller
        UUID job = claimedJob(agent);
        Instant leaseAtClaim = read(job).leaseExpireTime;

        Instant killed = Instant.now();
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);

        // The lease (10 s) is cut to about the disconnect grace (1 s), not left to run out.
        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    // One read: the re-queue clears the lease between two.
                    Instant lease = read(job).leaseExpireTime;
                    return lease == null || lease.isBefore(leaseAtClaim.minusSeconds(5));
                });
        // Queued again by the disconnect itself, not by a later lease sweep: right after this controller
        // started (as here, when this test runs first) the sweep still waits out one lease timeout.
        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> read(job).state == BuildState.QUEUED);
        PlatformBuildEntity requeued = read(job);
        assertThat(requeued.attempt).isEqualTo(1);
        assertThat(requeued.failureReason).contains("agent " + agent + " lost its lease on attempt 1");
        System.out.printf("attach closed to lease cut: within %d ms%n", Duration.between(killed, Instant.now()).toMillis());
    }

    @Test
    void anAgentThatAttachesAgainWithinTheGraceKeepsItsLease() throws Exception {
        String agent = "attach-back-" + UUID.randomUUID().toString().substring(0, 8);
        ManagedChannel first = attachedAgent(agent);
        Thread.sleep(300);
        UUID job = claimedJob(agent);
        Instant leaseAtClaim = read(job).leaseExpireTime;

        ManagedChannel second = attachedAgent(agent);
        Thread.sleep(300);
        first.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        Thread.sleep(2_500); // past the grace

        PlatformBuildEntity held = read(job);
        assertThat(held.state).isEqualTo(BuildState.RUNNING);
        assertThat(held.leaseExpireTime).isEqualTo(leaseAtClaim);
        second.shutdownNow();
    }

    @Test
    void afterAStartAnAgentThatDoesNotAttachAgainLosesItsJobAndOneThatDoesKeepsIt() throws Exception {
        String gone = "restart-gone-" + UUID.randomUUID().toString().substring(0, 8);
        String back = "restart-back-" + UUID.randomUUID().toString().substring(0, 8);
        UUID goneJob = claimedJob(gone);
        UUID backJob = claimedJob(back);
        Instant backLease = read(backJob).leaseExpireTime;
        ManagedChannel channel = attachedAgent(back);
        Thread.sleep(300);

        // As at the end of the restart grace of a controller that started after both claims.
        connections.takeBackUnattached(Instant.now());

        Awaitility.await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(100))
                .until(() -> read(goneJob).state == BuildState.QUEUED);
        assertThat(read(goneJob).failureReason).contains("agent " + gone + " lost its lease on attempt 1");
        PlatformBuildEntity kept = read(backJob);
        assertThat(kept.state).isEqualTo(BuildState.RUNNING);
        assertThat(kept.leaseExpireTime).isEqualTo(backLease);
        channel.shutdownNow();
    }

    @Test
    void afterAStartAnIdleAgentThatDoesNotAttachAgainIsLostAndOneThatDoesIsNot() throws Exception {
        String gone = "restart-idle-gone-" + UUID.randomUUID().toString().substring(0, 8);
        String back = "restart-idle-back-" + UUID.randomUUID().toString().substring(0, 8);
        for (String agent : List.of(gone, back)) {
            agents.report(agent, List.of(AgentPlatform.newBuilder().setPlatform("linux/amd64").build()));
        }
        ManagedChannel channel = attachedAgent(back);
        Thread.sleep(300);
        Instant start = Instant.now();

        connections.takeBackUnattached(start);

        assertThat(stateOf(gone)).isEqualTo(Agent.State.LOST);
        assertThat(stateOf(back)).isEqualTo(Agent.State.IDLE);
        channel.shutdownNow();
    }

    private Agent.State stateOf(String agent) {
        return agents.list().getAgentsList().stream().filter(a -> a.getName().equals(AgentEntity.NAME_PREFIX + agent)).findFirst().orElseThrow().getState();
    }

    @Test
    void jobsClaimedAfterTheStartAreLeftToTheirLeases() throws Exception {
        Instant start = Instant.now();
        Thread.sleep(10);
        String agent = "restart-new-" + UUID.randomUUID().toString().substring(0, 8);
        UUID job = claimedJob(agent);

        connections.takeBackUnattached(start);

        Thread.sleep(500);
        assertThat(read(job).state).isEqualTo(BuildState.RUNNING);
    }
}
