package dev.buildfarm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {

    private static final Machine MACHINE = new Machine(2, "Test CPU", 24_105, "Linux 6.1", "17.0.15", "1.00 0.50 0.25");

    private static Report report() {
        Figure met = new Figure("T2", "SubmitBuild latency", "p50 3.0 ms, p99 20 ms", "p50 ≤ 5 ms, p99 ≤ 25 ms", true,
                "open loop | 500/s", Map.of()).withValues(Figure.values("p50_ms", 3.0, "p99_ms", 20, "max_ms", Double.NaN));
        Figure missed = new Figure("T1", "SubmitBuild builds/s", "400 builds/s", "≥ 1,000/s", false, "15 s\nclosed loop", Map.of());
        Figure info = Figure.informational("dispatch", "all jobs on Kafka", "relay").withId("T1");
        return new Report("quick", Instant.parse("2026-11-27T15:04:05Z"), Duration.ofSeconds(252), "abc1234", "jars of /src, database buildfarm", MACHINE,
                List.of(met, missed, info), List.of("Parts took: submit 40 s."));
    }

    @Test
    void theTableHasOneRowPerFigureWithItsVerdict() {
        String table = report().table();
        assertThat(table.lines()).containsExactly(
                "| id | figure | result | target | met | conditions |",
                "|---|---|---|---|---|---|",
                "| T2 | SubmitBuild latency | p50 3.0 ms, p99 20 ms | p50 ≤ 5 ms, p99 ≤ 25 ms | met | open loop \\| 500/s |",
                "| T1 | SubmitBuild builds/s | 400 builds/s | ≥ 1,000/s | **missed** | 15 s closed loop |",
                "| T1 | dispatch | all jobs on Kafka |  |  | relay |");
    }

    @Test
    void theMarkdownNamesTheModeTheMachineAndTheTime() {
        String md = report().markdown();
        assertThat(md).startsWith("### buildfarm benchmarks, quick mode, 2026-11-27 15:04 UTC");
        assertThat(md).contains("2 cores (nproc; Test CPU), 23.5 GiB memory, Linux 6.1, Java 17.0.15, load average 1.00 0.50 0.25 at start");
        assertThat(md).contains("Commit abc1234; services: jars of /src, database buildfarm; the suite took 4 min 12 s.");
        assertThat(md).contains("Where the time goes:\n\n```\nParts took: submit 40 s.\n```");
    }

    @Test
    void theJsonKeepsEveryFigureWithItsNumbers() throws Exception {
        JsonNode json = new ObjectMapper().readTree(report().json());
        assertThat(json.path("mode").asText()).isEqualTo("quick");
        assertThat(json.path("durationSeconds").asDouble()).isEqualTo(252.0);
        assertThat(json.path("machine").path("cores").asInt()).isEqualTo(2);
        JsonNode first = json.path("figures").get(0);
        assertThat(first.path("id").asText()).isEqualTo("T2");
        assertThat(first.path("met").asBoolean()).isTrue();
        assertThat(first.path("values").fieldNames()).toIterable().containsExactly("p50_ms", "p99_ms", "max_ms");
        assertThat(first.path("values").path("p99_ms").asDouble()).isEqualTo(20.0);
        assertThat(first.path("values").path("max_ms").isNull()).isTrue();
        assertThat(json.path("figures").get(2).path("met").isNull()).isTrue();
        assertThat(json.path("diagnosis").get(0).asText()).isEqualTo("Parts took: submit 40 s.");
    }

    @Test
    void aRunIsWrittenUnderItsTimeAndAsTheLatest(@TempDir Path dir) throws Exception {
        Path md = report().write(dir);
        assertThat(md.getFileName().toString()).isEqualTo("20261127-150405-quick.md");
        assertThat(dir.resolve("20261127-150405-quick.json")).exists();
        assertThat(Files.readString(dir.resolve("latest.md"))).isEqualTo(Files.readString(md));
        assertThat(dir.resolve("latest.json")).exists();
    }

    @Test
    void figuresSortByTheirIdWithOtherIssuesLast() {
        List<Figure> figures = new java.util.ArrayList<>();
        for (String id : List.of("#3", "T6", "T1", "#4", "T3/T4/T6", "T10", "T1")) {
            figures.add(Figure.informational(id + " row", "", "").withId(id));
        }
        figures.sort(Report.BY_ID);
        assertThat(figures).extracting(Figure::id).containsExactly("T1", "T1", "T3/T4/T6", "T6", "T10", "#3", "#4");
    }

    @Test
    void durationsReadAsMinutesAndSeconds() {
        assertThat(Report.minutes(Duration.ofSeconds(42))).isEqualTo("42 s");
        assertThat(Report.minutes(Duration.ofSeconds(301))).isEqualTo("5 min 01 s");
    }
}
