package dev.buildfarm.controller.logs;

import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Wakes the log followers of a build when its lines or state change. The database stays the source
 * of truth; a signal only saves a follower the wait until its next periodic look.
 */
@ApplicationScoped
public class BuildSignals {

    /** Counts the signals of one build, so a signal given while a follower was reading is not lost. */
    private static final class Counter {
        long signals;
    }

    private final Map<UUID, Counter> counters = new ConcurrentHashMap<>();

    public void signal(UUID buildId) {
        Counter counter = counters.get(buildId);
        if (counter != null) {
            synchronized (counter) {
                counter.signals++;
                counter.notifyAll();
            }
        }
    }

    /** The signals so far; read it before reading the database, then pass it to {@link #await}. */
    public long seen(UUID buildId) {
        Counter counter = counters.computeIfAbsent(buildId, id -> new Counter());
        synchronized (counter) {
            return counter.signals;
        }
    }

    /** Waits, at most the given time, for a signal after the one {@code seen} counted. */
    public void await(UUID buildId, long seen, long millis) throws InterruptedException {
        Counter counter = counters.computeIfAbsent(buildId, id -> new Counter());
        synchronized (counter) {
            if (counter.signals == seen) {
                counter.wait(millis);
            }
        }
    }
}
