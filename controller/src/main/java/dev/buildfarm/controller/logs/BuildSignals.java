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

    private final Map<UUID, Object> monitors = new ConcurrentHashMap<>();

    public void signal(UUID buildId) {
        Object monitor = monitors.get(buildId);
        if (monitor != null) {
            synchronized (monitor) {
                monitor.notifyAll();
            }
        }
    }

    /** Waits for a signal of this build, at most the given time. */
    public void await(UUID buildId, long millis) throws InterruptedException {
        Object monitor = monitors.computeIfAbsent(buildId, id -> new Object());
        synchronized (monitor) {
            monitor.wait(millis);
        }
    }
}
