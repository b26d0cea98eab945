package dev.buildfarm.bench;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Percentiles by nearest rank: p99 of 50 samples is the largest, of 100,000 the 99,000th. */
final class Stats {

    private final double[] sorted;

    Stats(double[] values) {
        this.sorted = values.clone();
        Arrays.sort(this.sorted);
    }

    static Stats of(List<Double> values) {
        return new Stats(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    int count() {
        return sorted.length;
    }

    double percentile(double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    double p50() {
        return percentile(50);
    }

    double p99() {
        return percentile(99);
    }

    double min() {
        return sorted.length == 0 ? Double.NaN : sorted[0];
    }

    double max() {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1];
    }

    double mean() {
        return Arrays.stream(sorted).average().orElse(Double.NaN);
    }

    /** "p50 12.3 ms, p99 45.6 ms, max 78.9 ms" for values in milliseconds. */
    String millis() {
        return String.format(Locale.ROOT, "p50 %s, p99 %s, max %s", ms(p50()), ms(p99()), ms(max()));
    }

    /** n, p50, p99 and max under names that start with the prefix ("t2_" → t2_n, t2_p50_ms…), for the JSON. */
    Map<String, Double> millisValues(String prefix) {
        Map<String, Double> values = new LinkedHashMap<>();
        values.put(prefix + "n", (double) count());
        values.put(prefix + "p50_ms", p50());
        values.put(prefix + "p99_ms", p99());
        values.put(prefix + "max_ms", max());
        return values;
    }

    static String ms(double millis) {
        if (Double.isNaN(millis)) {
            return "n/a";
        }
        if (millis >= 1000) {
            return String.format(Locale.ROOT, "%.2f s", millis / 1000);
        }
        return String.format(Locale.ROOT, millis >= 10 ? "%.0f ms" : "%.1f ms", millis);
    }
}
