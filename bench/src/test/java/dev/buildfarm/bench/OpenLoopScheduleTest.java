package dev.buildfarm.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class OpenLoopScheduleTest {

    @Test
    void requestsAreDueEvenlyAtTheRate() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(500, Duration.ofSeconds(10));
        assertThat(schedule.count()).isEqualTo(5_000);
        assertThat(schedule.dueNanos(0)).isZero();
        assertThat(schedule.dueNanos(1)).isEqualTo(2_000_000);
        assertThat(schedule.dueNanos(500)).isEqualTo(1_000_000_000L);
        assertThat(schedule.dueNanos(4_999)).isEqualTo(9_998_000_000L);
    }

    @Test
    void dueTimesDoNotDriftAtRatesThatDoNotDivideASecond() {
        OpenLoopSchedule schedule = new OpenLoopSchedule(3, Duration.ofSeconds(2));
        assertThat(schedule.count()).isEqualTo(6);
        assertThat(schedule.dueNanos(3)).isEqualTo(1_000_000_000L);
        assertThat(schedule.dueNanos(1)).isEqualTo(333_333_333L);
    }

    @Test
    void latencyCountsFromWhenTheRequestWasDueSoAStalledSenderShows() {
        long due = 1_000_000_000L;
        // Sent 40 ms late because the previous call stalled, answered 1 ms after sending.
        long answered = due + 41_000_000L;
        assertThat(OpenLoopSchedule.latencyMillis(due, answered)).isEqualTo(41.0);
    }

    @Test
    void aScheduleNeedsARateAndATime() {
        assertThatThrownBy(() -> new OpenLoopSchedule(0, Duration.ofSeconds(1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new OpenLoopSchedule(10, Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
    }
}
