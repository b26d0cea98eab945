package dev.buildfarm.controller.admission;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.rpc.RetryInfo;
import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.ClaimJobRequest;
import dev.buildfarm.api.v1.ClaimJobResponse;
import dev.buildfarm.api.v1.FinishJobRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.rules.ControllerApi;
import dev.buildfarm.controller.rules.GitFixture;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Admission on the real PostgreSQL: namespaces admission-a and admission-b may each have one job in
 * flight (test profile), so one namespace's backlog waits in the database while the other's job goes
 * out, and an ended or cancelled job frees its slot for the next one.
 */
@QuarkusTest
class AdmissionTest {

    private static GitFixture git;

    @Inject
    EntityManager em;

    @Inject
    BuildStore store;

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
        // Builds of an earlier run of this test still hold these namespaces' slots: end them.
        QuarkusTransaction.requiringNew().run(() -> em.createNativeQuery("update build set state = 'CANCELLED'"
                + " where split_part(repository, '/', 2) like 'admission-%' and state in ('QUEUED', 'RUNNING')").executeUpdate());
    }

    @AfterEach
    void close() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        api.close();
    }

    private Build submit(String namespace) throws Exception {
        return api.builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl(git.url).setCommit(git.head("main")))
                .addPlatforms("linux/arm64").setRepository("127.0.0.1:5000/" + namespace + "/app").addTags("t")).build());
    }

    /** The build's one platform job, and when it was admitted (null: still waiting). */
    private record Job(UUID id, Instant admitted, String state) {
    }

    private Job job(Build build) {
        return QuarkusTransaction.requiringNew().call(() -> {
            Object[] row = (Object[]) em.createNativeQuery("select id, admit_time, state from platform_build where build_id = ?1")
                    .setParameter(1, UUID.fromString(build.getName().substring("builds/".length()))).getSingleResult();
            return new Job((UUID) row[0], row[1] == null ? null : (Instant) row[1], (String) row[2]);
        });
    }

    private Build get(Build build) {
        return api.builds.getBuild(GetBuildRequest.newBuilder().setName(build.getName()).build());
    }

    @Test
    void aBackloggedNamespaceWaitsWhileAnotherGoesFirstAndEndedJobsFreeTheirSlots() throws Exception {
        Build a1 = submit("admission-a");
        Build a2 = submit("admission-a");
        Build a3 = submit("admission-a");
        await().atMost(Duration.ofSeconds(10)).until(() -> job(a1).admitted() != null);
        Build b1 = submit("admission-b");
        await().atMost(Duration.ofSeconds(10)).until(() -> job(b1).admitted() != null);

        // a's limit is one: the two others wait in the database, not on Kafka, and still read QUEUED.
        Thread.sleep(1_500); // a pass runs every second at least
        assertThat(job(a2).admitted()).isNull();
        assertThat(job(a3).admitted()).isNull();
        assertThat(get(a2).getState()).isEqualTo(Build.State.QUEUED);

        // Cancelling a waiting build works, and it is never sent.
        assertThat(api.builds.cancelBuild(CancelBuildRequest.newBuilder().setName(a3.getName()).build()).getState())
                .isEqualTo(Build.State.CANCELLED);
        // The admitted one ends (claimed, then failed): its slot goes to a2, the oldest still waiting.
        ClaimJobResponse claim = agents.claimJob(ClaimJobRequest.newBuilder().setJobId(job(a1).id().toString()).setAgent("admission-test").build());
        assertThat(claim.getGranted()).isTrue();
        agents.finishJob(FinishJobRequest.newBuilder().setJobId(job(a1).id().toString()).setAttempt(claim.getAttempt())
                .setFailureReason("test over").build());
        await().atMost(Duration.ofSeconds(10)).until(() -> job(a2).admitted() != null);
        assertThat(job(a3).admitted()).isNull();
        assertThat(job(a3).state()).isEqualTo("CANCELLED");

        // Cancelling an admitted build frees its slot too.
        Build a4 = submit("admission-a");
        Thread.sleep(1_500);
        assertThat(job(a4).admitted()).isNull();
        api.builds.cancelBuild(CancelBuildRequest.newBuilder().setName(a2.getName()).build());
        await().atMost(Duration.ofSeconds(10)).until(() -> job(a4).admitted() != null);

        // Queue wait still counts from submit: a2 waited for admission, and that is part of its wait.
        assertThat(get(a2).getPlatformBuilds(0).getCreateTime()).isEqualTo(get(a2).getCreateTime());
        List.of(b1, a4).forEach(b -> api.builds.cancelBuild(CancelBuildRequest.newBuilder().setName(b.getName()).build()));
    }

    @Test
    void aBacklogOfMoreThanOnePassIsAdmittedInPassesOfAtMostMaxPerPass() throws Exception {
        // 450 jobs waiting at once (one transaction, so one wake-up), for a namespace without a limit
        // of its own: one pass may admit 200, and the next passes must follow until none waits.
        int backlog = 2 * Admission.MAX_PER_PASS + 50;
        String commit = git.head("main");
        QuarkusTransaction.requiringNew().run(() -> {
            for (int i = 0; i < backlog; i++) {
                store.create("", BuildSpec.newBuilder().setSource(GitSource.newBuilder().setUrl(git.url).setCommit(commit))
                        .addPlatforms("linux/arm64").setRepository("127.0.0.1:5000/admission-backlog/app").addTags("t").build(),
                        commit, Trigger.getDefaultInstance());
            }
        });
        String ofBacklog = " from platform_build pb join build b on b.id = pb.build_id"
                + " where b.namespace = 'admission-backlog' and b.state in ('QUEUED', 'RUNNING')";
        await().atMost(Duration.ofSeconds(60)).until(() -> QuarkusTransaction.requiringNew().call(() -> ((Number) em.createNativeQuery(
                "select count(*)" + ofBacklog + " and pb.admit_time is not null").getSingleResult()).intValue()) == backlog);
        // Each pass stamps its jobs with one admit_time: no pass admitted more than MAX_PER_PASS.
        @SuppressWarnings("unchecked")
        List<Number> perPass = QuarkusTransaction.requiringNew().call(() -> em.createNativeQuery(
                "select count(*)" + ofBacklog + " group by pb.admit_time").getResultList());
        assertThat(perPass).hasSizeGreaterThanOrEqualTo(3).allSatisfy(n -> assertThat(n.intValue()).isLessThanOrEqualTo(Admission.MAX_PER_PASS));
        QuarkusTransaction.requiringNew().run(() -> em.createNativeQuery(
                "update build set state = 'CANCELLED' where namespace = 'admission-backlog' and state in ('QUEUED', 'RUNNING')").executeUpdate());
    }

    @Test
    void submitsOverTheNamespaceRateAreResourceExhaustedWithRetryInfo() throws Exception {
        // admission-rate: bursts of 3, then one every 50 s (test profile), so a slow machine does not refill it meanwhile.
        for (int i = 0; i < 3; i++) {
            submit("admission-rate");
        }
        assertThatThrownBy(() -> submit("admission-rate")).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            assertThat(e.getStatus().getDescription()).contains("namespace 'admission-rate'").contains("retry in");
            RetryInfo retry = StatusProto.fromThrowable(e).getDetailsList().stream().filter(a -> a.is(RetryInfo.class))
                    .map(a -> {
                        try {
                            return a.unpack(RetryInfo.class);
                        } catch (com.google.protobuf.InvalidProtocolBufferException x) {
                            throw new AssertionError(x);
                        }
                    }).findFirst().orElseThrow();
            long millis = retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000;
            assertThat(millis).isBetween(1L, 50_000L);
        });
        // Another namespace is not held back.
        assertThat(submit("admission-b").getState()).isEqualTo(Build.State.QUEUED);
    }
}
