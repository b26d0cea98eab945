package dev.buildfarm.agent.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.common.LogContext;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import org.jboss.logging.Logger;
import org.jboss.logmanager.ExtLogRecord;
import org.junit.jupiter.api.Test;

/** What an operator filters an agent's JSON log by: every record of a job carries its build, platform, attempt and agent. */
class JobLogContextTest {

    @Test
    void recordsLoggedForAJobCarryItsKeysAndNoneAfterIt() {
        List<Map<String, String>> contexts = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                contexts.add(((ExtLogRecord) record).getMdcCopy());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger category = java.util.logging.Logger.getLogger(JobLogContextTest.class.getName());
        category.addHandler(capture);
        try {
            Logger log = Logger.getLogger(JobLogContextTest.class);
            PlatformJob job = PlatformJob.newBuilder().setJobId("job-1").setBuildName("builds/42").setPlatform("linux/arm/v7").build();
            JobRunner.Claimed claimed = new JobRunner.Claimed(job, 2, "rpi4-01", Optional.empty(), Map.of());
            try (LogContext context = claimed.logContext()) {
                log.info("pulling base images");
            }
            log.info("idle");
        } finally {
            category.removeHandler(capture);
        }
        assertThat(contexts).hasSize(2);
        assertThat(contexts.get(0)).isEqualTo(Map.of("build", "builds/42", "platform", "linux/arm/v7", "attempt", "2", "agent", "rpi4-01"));
        assertThat(contexts.get(1)).doesNotContainKeys("build", "platform", "attempt", "agent");
    }

    @Test
    void aClaimedJobNeverPrintsItsCredentialsOrSecretValues() {
        PlatformJob job = PlatformJob.newBuilder().setJobId("job-2").setBuildName("builds/43").setPlatform("linux/amd64").build();
        JobRunner.Claimed claimed = new JobRunner.Claimed(job, 1, "amd64-01",
                Optional.of(SourceCredentials.newBuilder().setUsername("ci").setPassword("hunter2-token").build()),
                Map.of("NPM_TOKEN", "npm-secret-value"));
        assertThat(claimed.toString()).contains("builds/43", "NPM_TOKEN").doesNotContain("hunter2-token", "npm-secret-value");
    }
}
