package dev.buildfarm.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Counts CPU samples (JFR jdk.ExecutionSample stacks) several ways: the frame on top (where the CPU
 * was) and the library it belongs to; the innermost frame of our own code (which of our methods the
 * work was done for, libraries below it included); every frame of our own code on the stack (time
 * spent under it); and the thread (which pool). Thread numbers are dropped so a pool counts together.
 */
final class FrameSummary {

    record Count(String name, long samples) {
    }

    private final String ownPrefix;
    private final Map<String, Long> top = new HashMap<>();
    private final Map<String, Long> libraries = new HashMap<>();
    private final Map<String, Long> innermostOwn = new HashMap<>();
    private final Map<String, Long> own = new HashMap<>();
    private final Map<String, Long> threads = new HashMap<>();
    private long total;

    FrameSummary(String ownPrefix) {
        this.ownPrefix = ownPrefix;
    }

    /** One sample: its thread and its frames, innermost first, as "class.method". */
    void add(String thread, List<String> frames) {
        total++;
        threads.merge(threadPool(thread), 1L, Long::sum);
        if (frames.isEmpty()) {
            return;
        }
        top.merge(frames.get(0), 1L, Long::sum);
        libraries.merge(library(frames.get(0)), 1L, Long::sum);
        innermostOwn.merge(frames.stream().filter(this::isOwn).findFirst().orElse("(none of ours on the stack)"), 1L, Long::sum);
        // A recursive method counts once per sample.
        Set<String> seen = new HashSet<>();
        for (String frame : frames) {
            if (isOwn(frame) && seen.add(frame)) {
                own.merge(frame, 1L, Long::sum);
            }
        }
    }

    /** Our code, without the generated gRPC stubs and CDI proxies that only pass calls on. */
    private boolean isOwn(String frame) {
        return frame.startsWith(ownPrefix) && !frame.startsWith(ownPrefix + "api.v1.") && !frame.contains("_ClientProxy")
                && !frame.contains("_Subclass") && !frame.contains("$$Lambda");
    }

    /**
     * The library of a frame: the first two parts of its package (org.hibernate, io.netty, java.util),
     * three for com.google and com.fasterxml, which hold several libraries each.
     */
    static String library(String frame) {
        String[] parts = frame.split("\\.");
        int keep = parts.length > 3 && (frame.startsWith("com.google.") || frame.startsWith("com.fasterxml.")) ? 3 : 2;
        return String.join(".", java.util.Arrays.copyOf(parts, Math.min(keep, Math.max(1, parts.length - 2))));
    }

    long total() {
        return total;
    }

    List<Count> topFrames(int n) {
        return largest(top, n);
    }

    List<Count> libraries(int n) {
        return largest(libraries, n);
    }

    List<Count> innermostOwnFrames(int n) {
        return largest(innermostOwn, n);
    }

    List<Count> ownFrames(int n) {
        return largest(own, n);
    }

    List<Count> threadPools(int n) {
        return largest(threads, n);
    }

    /** A printable summary: each list with the share of all samples. */
    List<String> lines(int n) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%,d CPU samples", total));
        section(lines, "top frames (where the CPU was)", topFrames(n));
        section(lines, "library of the top frame", libraries(n));
        section(lines, "innermost frame of ours (the work done for it, libraries below included)", innermostOwnFrames(n));
        section(lines, "frames of ours on the stack (time spent under them)", ownFrames(n));
        section(lines, "threads", threadPools(n));
        return lines;
    }

    private void section(List<String> lines, String title, List<Count> counts) {
        lines.add(title + ":");
        for (Count c : counts) {
            lines.add(String.format(Locale.ROOT, "  %5.1f%%  %s", 100.0 * c.samples() / Math.max(1, total), c.name()));
        }
    }

    static String threadPool(String thread) {
        return thread.replaceAll("[-#]?\\d+", "-#").replaceAll("(-#)+", "-#");
    }

    private static List<Count> largest(Map<String, Long> counts, int n) {
        return counts.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                .limit(n)
                .map(e -> new Count(e.getKey(), e.getValue()))
                .toList();
    }
}
