package dev.buildfarm.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.jboss.logging.MDC;
import org.junit.jupiter.api.Test;

class LogContextTest {

    @Test
    void closingRestoresWhatTheThreadHadBefore() {
        try (LogContext job = LogContext.open().build("builds/1").platform("linux/arm64").attempt(2).agent("rpi4-01")) {
            assertThat(MDC.get("build")).isEqualTo("builds/1");
            assertThat(MDC.get("attempt")).isEqualTo("2");
            try (LogContext publication = LogContext.open().build("builds/2").platform("")) {
                assertThat(MDC.get("build")).isEqualTo("builds/2");
                assertThat(MDC.get("platform")).as("empty values are left out").isEqualTo("linux/arm64");
            }
            assertThat(MDC.get("build")).isEqualTo("builds/1");
        }
        assertThat(MDC.getMap()).doesNotContainKeys("build", "platform", "attempt", "agent");
    }
}
