package dev.buildfarm.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One run of the suite: its figures, the machine, and what the run found about where time goes.
 * Rendered as the Markdown table the README shows and as JSON for comparing runs.
 */
record Report(String mode, Instant started, Duration took, String commit, String services, Machine machine, List<Figure> figures,
              List<String> diagnosis) {

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter READABLE = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'").withZone(ZoneOffset.UTC);

    /** T1…T9 in order, then the figures of other issues (#3, #4, …); the parts run in another order. */
    static final java.util.Comparator<Figure> BY_ID = java.util.Comparator.comparingInt(Report::rank);

    private static int rank(Figure f) {
        java.util.regex.Matcher digits = java.util.regex.Pattern.compile("\\d+").matcher(f.id());
        int n = digits.find() ? Integer.parseInt(digits.group()) : 999;
        return f.id().startsWith("T") ? n : 1000 + n;
    }

    String table() {
        StringBuilder out = new StringBuilder();
        out.append("| id | figure | result | target | met | conditions |\n");
        out.append("|---|---|---|---|---|---|\n");
        for (Figure f : figures) {
            out.append("| ").append(cell(f.id())).append(" | ").append(cell(f.name())).append(" | ").append(cell(f.result()))
                    .append(" | ").append(cell(f.target())).append(" | ").append(f.verdict()).append(" | ")
                    .append(cell(f.conditions())).append(" |\n");
        }
        return out.toString();
    }

    String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("### buildfarm benchmarks, ").append(mode).append(" mode, ").append(READABLE.format(started)).append("\n\n");
        out.append("Machine: ").append(machine.describe()).append(".  \n");
        out.append(String.format(Locale.ROOT, "Commit %s; services: %s; the suite took %s.%n%n", commit, services, minutes(took)));
        out.append(table());
        if (!diagnosis.isEmpty()) {
            out.append("\nWhere the time goes:\n\n```\n");
            diagnosis.forEach(line -> out.append(line).append('\n'));
            out.append("```\n");
        }
        return out.toString();
    }

    String json() {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("mode", mode);
        root.put("started", started.toString());
        root.put("durationSeconds", took.toMillis() / 1000.0);
        root.put("commit", commit);
        root.put("services", services);
        root.set("machine", json.valueToTree(machine));
        ArrayNode list = root.putArray("figures");
        for (Figure f : figures) {
            ObjectNode node = list.addObject();
            node.put("id", f.id());
            node.put("name", f.name());
            node.put("result", f.result());
            node.put("target", f.target());
            if (f.met() == null) {
                node.putNull("met");
            } else {
                node.put("met", f.met());
            }
            node.put("conditions", f.conditions());
            ObjectNode values = node.putObject("values");
            for (Map.Entry<String, Double> v : f.values().entrySet()) {
                if (v.getValue() == null || v.getValue().isNaN() || v.getValue().isInfinite()) {
                    values.putNull(v.getKey());
                } else {
                    values.put(v.getKey(), v.getValue());
                }
            }
        }
        ArrayNode lines = root.putArray("diagnosis");
        diagnosis.forEach(lines::add);
        try {
            return json.writeValueAsString(root) + "\n";
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Writes <stamp>.json and <stamp>.md and, for a whole run (quick, full) or the fault campaign, the
     * same as latest.json and latest.md, so one part run alone does not replace the table the README
     * shows; answers the Markdown file.
     */
    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        String stamp = STAMP.format(started) + "-" + mode;
        Path md = dir.resolve(stamp + ".md");
        Files.writeString(md, markdown(), StandardCharsets.UTF_8);
        Files.writeString(dir.resolve(stamp + ".json"), json(), StandardCharsets.UTF_8);
        if (mode.equals("quick") || mode.equals("full") || mode.equals("faults")) {
            Files.writeString(dir.resolve("latest.md"), markdown(), StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("latest.json"), json(), StandardCharsets.UTF_8);
        }
        return md;
    }

    static String minutes(Duration d) {
        long s = Math.round(d.toMillis() / 1000.0);
        return s < 60 ? s + " s" : String.format(Locale.ROOT, "%d min %02d s", s / 60, s % 60);
    }

    static String cell(String text) {
        return text == null ? "" : text.replace("|", "\\|").replace("\n", " ");
    }
}
