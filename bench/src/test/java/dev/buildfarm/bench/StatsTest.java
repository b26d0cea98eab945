package dev.buildfarm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.DoubleStream;
import org.junit.jupiter.api.Test;

class StatsTest {

    @Test
    void percentilesAreNearestRankOfTheSortedValues() {
        // 1..100 shuffled: p50 is the 50th value, p99 the 99th.
        double[] values = DoubleStream.iterate(100, v -> v - 1).limit(100).toArray();
        Stats stats = new Stats(values);
        assertThat(stats.p50()).isEqualTo(50);
        assertThat(stats.p99()).isEqualTo(99);
        assertThat(stats.min()).isEqualTo(1);
        assertThat(stats.max()).isEqualTo(100);
        assertThat(stats.mean()).isEqualTo(50.5);
    }

    @Test
    void p99OfFewSamplesIsTheLargest() {
        Stats stats = Stats.of(List.of(3.0, 1.0, 2.0));
        assertThat(stats.p99()).isEqualTo(3);
        assertThat(stats.p50()).isEqualTo(2);
        assertThat(stats.percentile(0)).isEqualTo(1);
    }

    @Test
    void noSamplesGiveNotANumber() {
        Stats stats = Stats.of(List.of());
        assertThat(stats.count()).isZero();
        assertThat(stats.p99()).isNaN();
        assertThat(Stats.ms(stats.p99())).isEqualTo("n/a");
    }

    @Test
    void theInputIsNotReordered() {
        double[] values = {3, 1, 2};
        new Stats(values);
        assertThat(values).containsExactly(3, 1, 2);
    }

    @Test
    void millisecondsAreWrittenForPeople() {
        assertThat(Stats.ms(4.25)).isEqualTo("4.3 ms");
        assertThat(Stats.ms(42.4)).isEqualTo("42 ms");
        assertThat(Stats.ms(1234)).isEqualTo("1.23 s");
        assertThat(Stats.of(List.of(1.0, 2.0)).millis()).isEqualTo("p50 1.0 ms, p99 2.0 ms, max 2.0 ms");
    }

    @Test
    void valuesForTheJsonKeepTheirOrderAndPrefix() {
        assertThat(Stats.of(List.of(1.0, 2.0)).millisValues("t2_"))
                .containsExactly(
                        org.assertj.core.api.Assertions.entry("t2_n", 2.0),
                        org.assertj.core.api.Assertions.entry("t2_p50_ms", 1.0),
                        org.assertj.core.api.Assertions.entry("t2_p99_ms", 2.0),
                        org.assertj.core.api.Assertions.entry("t2_max_ms", 2.0));
    }
}
