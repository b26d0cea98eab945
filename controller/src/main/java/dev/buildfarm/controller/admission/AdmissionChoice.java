package dev.buildfarm.controller.admission;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.ToIntFunction;

/**
 * Which waiting platform jobs to admit now, fair share: while a slot is free, the next job comes from
 * the namespace with the fewest jobs in flight among those that may still admit one on that platform,
 * oldest first within it. A platform at its limit, or a namespace at its own, admits nothing more.
 */
final class AdmissionChoice {

    /** A job waiting for admission. */
    record Waiting(UUID id, String platform, String namespace) {
    }

    private final Map<String, Integer> platformInFlight;
    private final Map<String, Integer> namespaceInFlight;
    private final ToIntFunction<String> platformLimit;
    private final ToIntFunction<String> namespaceLimit;

    AdmissionChoice(Map<String, Integer> platformInFlight, Map<String, Integer> namespaceInFlight,
                    ToIntFunction<String> platformLimit, ToIntFunction<String> namespaceLimit) {
        this.platformInFlight = new HashMap<>(platformInFlight);
        this.namespaceInFlight = new HashMap<>(namespaceInFlight);
        this.platformLimit = platformLimit;
        this.namespaceLimit = namespaceLimit;
    }

    /** @param waiting oldest first */
    List<Waiting> choose(List<Waiting> waiting) {
        List<Waiting> left = new ArrayList<>(waiting);
        List<Waiting> chosen = new ArrayList<>();
        while (true) {
            Waiting best = null;
            int bestLoad = Integer.MAX_VALUE;
            for (Waiting w : left) {
                int load = namespaceInFlight.getOrDefault(w.namespace(), 0);
                // Strictly fewer: among equals the first seen, which is the oldest.
                if (load < bestLoad && load < namespaceLimit.applyAsInt(w.namespace())
                        && platformInFlight.getOrDefault(w.platform(), 0) < platformLimit.applyAsInt(w.platform())) {
                    best = w;
                    bestLoad = load;
                }
            }
            if (best == null) {
                return chosen;
            }
            left.remove(best);
            chosen.add(best);
            namespaceInFlight.merge(best.namespace(), 1, Integer::sum);
            platformInFlight.merge(best.platform(), 1, Integer::sum);
        }
    }
}
