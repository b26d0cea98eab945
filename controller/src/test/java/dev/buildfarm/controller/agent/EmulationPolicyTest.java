package dev.buildfarm.controller.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.Code;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildSpecValidator;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Native first, QEMU as fallback, on the real database: which agent a claim goes to under each
 * emulation policy, with a native agent of the platform alive or not. Time is moved by rewriting the
 * job's queue time rather than by sleeping.
 */
@QuarkusTest
class EmulationPolicyTest {

    private static final String PLATFORM = "linux/arm/v7";

    @Inject
    AgentJobs jobs;

    @Inject
    AgentRegistry agents;

    @Inject
    BuildStore store;

    private final BuildSpecValidator validator = new BuildSpecValidator(false);

    private final String nativeAgent = "native-armv7-" + UUID.randomUUID().toString().substring(0, 8);

    @AfterEach
    void forgetTheNativeAgent() {
        QuarkusTransaction.requiringNew().run(() -> AgentEntity.deleteById(nativeAgent));
    }

    private void nativeAgentReports() {
        agents.report(nativeAgent, List.of(AgentPlatform.newBuilder().setPlatform(PLATFORM).setBusy(true).build()));
    }

    private String job(String platform, BuildSpec.Emulation policy) {
        BuildSpec spec = validator.validate(BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("e".repeat(40)))
                .addPlatforms(platform)
                .setRepository("127.0.0.1:5000/emulation/test").addTags("latest")
                .setEmulation(policy)
                .build());
        BuildEntity build = store.create("", spec, "e".repeat(40), Trigger.newBuilder().setKind(Trigger.Kind.API).build());
        return build.platformBuilds.get(0).id.toString();
    }

    private void queuedSince(String job, Duration ago) {
        QuarkusTransaction.requiringNew().run(() -> {
            PlatformBuildEntity pb = PlatformBuildEntity.findById(UUID.fromString(job));
            pb.createTime = Instant.now().minus(ago);
            // The native wait counts from admission; admitted as long ago as created.
            pb.admitTime = pb.createTime;
        });
    }

    private boolean ranEmulated(String job) {
        return QuarkusTransaction.requiringNew().call(() -> PlatformBuildEntity.<PlatformBuildEntity>findById(UUID.fromString(job)).emulated);
    }

    @Test
    void fallbackHoldsAJobForALiveNativeAgentThenLetsEmulationTakeIt() {
        nativeAgentReports();
        String job = job(PLATFORM, BuildSpec.Emulation.EMULATION_UNSPECIFIED);

        AgentJobs.Claim early = jobs.claim(job, "qemu-host", true);
        assertThat(early.granted()).isFalse();
        assertThat(early.reason()).contains("native agent");
        assertThat(early.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(30));

        queuedSince(job, Duration.ofSeconds(31));
        AgentJobs.Claim late = jobs.claim(job, "qemu-host", true);
        assertThat(late.granted()).isTrue();
        assertThat(ranEmulated(job)).isTrue();
    }

    @Test
    void fallbackGoesToANativeAgentAtOnce() {
        nativeAgentReports();
        String job = job(PLATFORM, BuildSpec.Emulation.FALLBACK);
        assertThat(jobs.claim(job, nativeAgent, false).granted()).isTrue();
        assertThat(ranEmulated(job)).isFalse();
    }

    @Test
    void fallbackWithNoNativeAgentAliveEmulatesAtOnce() {
        String job = job("linux/arm/v6", BuildSpec.Emulation.FALLBACK);
        assertThat(jobs.claim(job, "qemu-host", true).granted()).isTrue();
        assertThat(ranEmulated(job)).isTrue();
    }

    @Test
    void neverRefusesEmulatingAgentsWithoutAskingThemBack() {
        String job = job(PLATFORM, BuildSpec.Emulation.NEVER);
        queuedSince(job, Duration.ofHours(1));
        AgentJobs.Claim emulated = jobs.claim(job, "qemu-host", true);
        assertThat(emulated.granted()).isFalse();
        assertThat(emulated.retryAfter()).isZero();
        assertThat(emulated.reason()).contains("NEVER");
        assertThat(jobs.claim(job, nativeAgent, false).granted()).isTrue();
    }

    @Test
    void alwaysRefusesNativeAgentsEvenWhenOneIsAlive() {
        nativeAgentReports();
        String job = job(PLATFORM, BuildSpec.Emulation.ALWAYS);
        AgentJobs.Claim onNative = jobs.claim(job, nativeAgent, false);
        assertThat(onNative.granted()).isFalse();
        assertThat(onNative.reason()).contains("ALWAYS");
        assertThat(jobs.claim(job, "qemu-host", true).granted()).isTrue();
        assertThat(ranEmulated(job)).isTrue();
    }

    @Test
    void anUnknownPolicyIsRefusedNamingTheField() {
        BuildSpec spec = BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/app.git").setCommit("e".repeat(40)))
                .addPlatforms(PLATFORM).setRepository("127.0.0.1:5000/emulation/test").addTags("latest")
                .setEmulationValue(7)
                .build();
        assertThatThrownBy(() -> validator.validate(spec))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT);
                    assertThat(e.violations()).extracting(ApiError.Violation::field).containsExactly("spec.emulation");
                });
    }
}
