package dev.buildfarm.bench;

import java.io.PrintStream;
import java.util.List;

/**
 * One measured figure, printed as one Markdown table row with its target, whether it was met, and the
 * conditions it was measured under.
 */
record Figure(String name, String result, String target, Boolean met, String conditions) {

    static Figure informational(String name, String result, String conditions) {
        return new Figure(name, result, "", null, conditions);
    }

    String markdownRow() {
        String verdict = met == null ? "" : met ? "yes" : "**no**";
        return "| " + cell(name) + " | " + cell(result) + " | " + cell(target) + " | " + verdict + " | " + cell(conditions) + " |";
    }

    static void printTable(PrintStream out, List<Figure> figures) {
        out.println();
        out.println("| figure | result | target | met | conditions |");
        out.println("|---|---|---|---|---|");
        figures.forEach(f -> out.println(f.markdownRow()));
        out.flush();
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }
}
