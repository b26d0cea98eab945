package dev.buildfarm.controller.admission;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * buildfarm_admission_waiting and buildfarm_admission_in_flight, per platform and namespace, as an
 * admission pass counted them (refreshed at most every 5 s). A pair once seen stays, at 0 when idle.
 */
@ApplicationScoped
public class AdmissionMetrics {

    private static final Duration REFRESH = Duration.ofSeconds(5);

    @Inject
    MeterRegistry registry;

    private final Map<String, AtomicLong> waiting = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> inFlight = new ConcurrentHashMap<>();
    private volatile long lastUpdate;

    /** Whether the counts are old enough to be read again. */
    boolean due() {
        return System.nanoTime() - lastUpdate >= REFRESH.toNanos() || lastUpdate == 0;
    }

    /**
     * @param inFlightNow by "platform namespace"
     * @param waitingNow by "platform namespace"; null when not due
     */
    void observed(Map<String, Integer> inFlightNow, Map<String, Integer> waitingNow) {
        if (waitingNow == null) {
            return;
        }
        lastUpdate = System.nanoTime();
        set(inFlight, "buildfarm.admission.in_flight", "Platform jobs admitted to Kafka and not ended", inFlightNow);
        set(waiting, "buildfarm.admission.waiting", "Platform jobs waiting for admission under the platform and namespace limits", waitingNow);
    }

    private void set(Map<String, AtomicLong> values, String name, String description, Map<String, Integer> now) {
        now.keySet().forEach(key -> values.computeIfAbsent(key, k -> {
            AtomicLong value = new AtomicLong();
            int space = k.indexOf(' ');
            Gauge.builder(name, value, AtomicLong::get).description(description)
                    .tag("platform", k.substring(0, space)).tag("namespace", k.substring(space + 1))
                    .strongReference(true).register(registry);
            return value;
        }));
        values.forEach((key, value) -> value.set(now.getOrDefault(key, 0)));
    }
}
