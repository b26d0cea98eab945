package dev.buildfarm.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One measured figure: an id (T1…T9, or the issue it comes from), its result as a person reads it,
 * the target, whether it was met (null: nothing to meet), the conditions it was measured under, and
 * the numbers behind the result in the order they were added (for the JSON, so runs can be compared).
 */
record Figure(String id, String name, String result, String target, Boolean met, String conditions, Map<String, Double> values) {

    Figure {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    Figure(String name, String result, String target, Boolean met, String conditions) {
        this("", name, result, target, met, conditions, Map.of());
    }

    static Figure informational(String name, String result, String conditions) {
        return new Figure(name, result, "", null, conditions);
    }

    static Figure failed(String id, String name, String why) {
        return new Figure(id, name, "failed: " + why, "", false, "", Map.of());
    }

    Figure withId(String newId) {
        return new Figure(newId, name, result, target, met, conditions, values);
    }

    Figure withValues(Map<String, Double> numbers) {
        Map<String, Double> all = new LinkedHashMap<>(values);
        all.putAll(numbers);
        return new Figure(id, name, result, target, met, conditions, all);
    }

    /** Ordered numbers for withValues: values("p50_ms", 1.2, "n", 40). */
    static Map<String, Double> values(Object... namesAndNumbers) {
        Map<String, Double> values = new LinkedHashMap<>();
        for (int i = 0; i + 1 < namesAndNumbers.length; i += 2) {
            values.put((String) namesAndNumbers[i], ((Number) namesAndNumbers[i + 1]).doubleValue());
        }
        return values;
    }

    String verdict() {
        return met == null ? "" : met ? "met" : "**missed**";
    }
}
