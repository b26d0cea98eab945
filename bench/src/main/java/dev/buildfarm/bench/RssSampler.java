package dev.buildfarm.bench;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Samples the resident memory (VmRSS) of the controller and the agent every 200 ms in the
 * background and keeps each one's peak per phase of the suite ("T1 load", "builds").
 */
final class RssSampler implements AutoCloseable {

    static final List<String> SERVICES = List.of("controller", "agent");

    private final Processes processes;
    private final Map<String, Double> peaks = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile String phase = "";
    private volatile boolean running = true;

    RssSampler(Processes processes) {
        this.processes = processes;
        thread = new Thread(this::loop, "rss-sampler");
        thread.setDaemon(true);
        thread.start();
    }

    /** Current RSS of a service in MiB, or -1 when it does not run. */
    double now(String service) {
        return processes.service(service).map(Processes::rssMiB).orElse(-1.0);
    }

    /** Samples from now on count toward this phase; "" counts toward none. */
    void phase(String name) {
        phase = name;
    }

    /** Peak RSS of the service in MiB during the phase, or -1 if never sampled. */
    double peak(String phaseName, String service) {
        return peaks.getOrDefault(phaseName + "/" + service, -1.0);
    }

    private void loop() {
        while (running) {
            String current = phase;
            if (!current.isEmpty()) {
                for (String service : SERVICES) {
                    double rss = now(service);
                    if (rss >= 0) {
                        peaks.merge(current + "/" + service, rss, Math::max);
                    }
                }
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
