package dev.buildfarm.bench;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.stub.StreamObserver;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Issue 4, logs: one native linux/amd64 build whose RUN prints 100,000 lines as fast as it can, and a
 * follower (StreamBuildLogs, follow) started right after the submit.
 *
 * <ul>
 *   <li>per line latency = when the follower received it − BuildLogLine.time (when the agent read it;
 *       agent, controller and bench share this host's clock), p50/p99 over the RUN's lines;</li>
 *   <li>sustained lines/s = lines / (last line received − first line received).</li>
 * </ul>
 *
 * To show where the time goes, a sampler reads (read-only) how many lines the controller has stored
 * every few milliseconds, which splits each line's latency into agent read → stored in PostgreSQL
 * (agent batching and flush, ShipLogs, insert) and stored → received. The controller's and the
 * agent's peak RSS during the run are sampled too; with --profile both are recorded with JFR.
 */
final class LogBench {

    private static final String PLATFORM = "linux/amd64";
    /** How often the stored-line sampler looks; 0 turns it off (BENCH_LOG_SAMPLE_MS). */
    private static final int SAMPLE_MILLIS = Farm.envInt("BENCH_LOG_SAMPLE_MS", 5);

    private final Farm farm;
    private final int lines = Farm.envInt("BENCH_LOG_LINES", 100_000);
    /**
     * Unmeasured builds of the same kind first, followed the same way, so the log path of the
     * controller, the agent and this watcher is compiled as in a farm that has run a while (0: none).
     */
    private final int warmupBuilds = Farm.envInt("BENCH_LOG_WARMUP_BUILDS", 5);
    private final List<String> diagnosis;
    private final Processes processes;
    private final boolean profile;

    LogBench(Farm farm, List<String> diagnosis, Processes processes, boolean profile) {
        this.farm = farm;
        this.diagnosis = diagnosis;
        this.processes = processes;
        this.profile = profile;
    }

    /** What the follower saw of one RUN line. */
    private static final class Received {
        final long[] readMicros;
        final long[] receivedMicros;
        final long[] offsets;
        int count;
        int outOfOrder;
        long chunks;
        long expectNext = 1;

        Received(int capacity) {
            readMicros = new long[capacity];
            receivedMicros = new long[capacity];
            offsets = new long[capacity];
        }

        /** Received − read, per line. */
        double[] latencyMillis() {
            double[] latency = new double[count];
            for (int i = 0; i < count; i++) {
                latency[i] = (receivedMicros[i] - readMicros[i]) / 1000.0;
            }
            return latency;
        }
    }

    /**
     * A follower's stream: what it saw, its end, and its failure if it failed; the stored-line
     * sampler runs beside every followed build, warm-up or measured, so each sees the same load.
     */
    private record Following(Received seen, CountDownLatch done, AtomicReference<Throwable> failure, StoredSampler sampler) {
        /** Waits for the stream's end, then stops the sampler. */
        boolean await() throws InterruptedException {
            boolean finished = done.await(Farm.envInt("BENCH_LOG_TIMEOUT_SECONDS", 600), TimeUnit.SECONDS);
            sampler.stop();
            return finished;
        }
    }

    List<Figure> run() throws Exception {
        String dockerfile = "FROM " + farm.baseImage + "\nRUN seq 1 " + lines + "\n";
        Farm.GitRepo repo = farm.gitRepo("bench-logs", Map.of("Dockerfile", dockerfile));
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String service : List.of("controller", "agent")) {
            processes.service(service).ifPresent(pid -> pids.put(service, pid));
        }
        Map<String, Profiler> profilers = new LinkedHashMap<>();
        PeakRss peaks = new PeakRss(pids);
        Thread peakThread = new Thread(peaks, "rss-sampler");
        peakThread.setDaemon(true);
        try {
            warmUp(repo);
            if (profile) {
                for (Map.Entry<String, Long> service : pids.entrySet()) {
                    profilers.put(service.getKey(), Profiler.start(service.getValue(), service.getKey() + "-logs"));
                }
            }
            peakThread.start();
            List<Figure> figures = measure(repo);
            peaks.stop = true;
            peakThread.join(1_000);
            String rss = peaks.describe();
            System.out.println("logs: peak RSS during the run: " + rss);
            diagnosis.add("T5 peak RSS (VmRSS every 100 ms during the run): " + rss + ".");
            for (Map.Entry<String, Profiler> profiler : profilers.entrySet()) {
                FrameSummary summary = profiler.getValue().stop();
                diagnosis.add("T5 " + profiler.getKey() + " profile (JFR, " + profiler.getValue().file() + "):");
                summary.lines(12).forEach(line -> diagnosis.add("  " + line));
            }
            profilers.clear();
            return figures.stream().map(f -> f.withValues(peaks.values())).toList();
        } finally {
            peaks.stop = true;
            profilers.values().forEach(Profiler::stopQuietly);
            repo.delete();
        }
    }

    /** Unmeasured builds of the measured kind, each followed to its end; their latency shows the JIT settling. */
    private void warmUp(Farm.GitRepo repo) throws Exception {
        for (int round = 1; round <= warmupBuilds; round++) {
            Build build = submit(repo, "warmup");
            Following following = follow(build);
            if (!following.await()) {
                farm.cancelQuietly(build.getName());
            }
            Received seen = following.seen();
            String latency = seen.count == 0 ? "no RUN line" : "latency " + new Stats(seen.latencyMillis()).millis();
            System.out.printf(Locale.ROOT, "logs: warm-up build %d of %d ended %s (%,d RUN lines followed, %s)%n",
                    round, warmupBuilds, farm.get(build.getName()).getState(), seen.count, latency);
        }
    }

    /** The suite's processes, and the Docker engine (containerd and the build's container below it), which streams the output. */
    private Map<String, Long> accounted() {
        Map<String, Long> pids = new LinkedHashMap<>(processes.accounted());
        pids.remove("manifest-assembler");
        Processes.pidFile(processes.stackDir().resolve("docker/dockerd.pid")).ifPresent(pid -> pids.put("dockerd", pid));
        return pids;
    }

    /** The highest VmRSS of each service while the build runs. */
    private static final class PeakRss implements Runnable {
        private final Map<String, Long> pids;
        private final Map<String, Double> peaks = new java.util.concurrent.ConcurrentHashMap<>();
        volatile boolean stop;

        PeakRss(Map<String, Long> pids) {
            this.pids = pids;
        }

        @Override
        public void run() {
            while (!stop) {
                pids.forEach((service, pid) -> peaks.merge(service, Processes.rssMiB(pid), Math::max));
                try {
                    Thread.sleep(100);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }

        String describe() {
            List<String> parts = new ArrayList<>();
            peaks.forEach((service, mib) -> parts.add(String.format(Locale.ROOT, "%s %.0f MiB", service, mib)));
            return parts.isEmpty() ? "n/a" : String.join(", ", parts);
        }

        Map<String, Double> values() {
            Map<String, Double> values = new LinkedHashMap<>();
            peaks.forEach((service, mib) -> values.put(service + "_peak_rss_mib", mib));
            return values;
        }
    }

    /** The repository's Dockerfile on PLATFORM, without cache: a cached step prints nothing. */
    private Build submit(Farm.GitRepo repo, String tag) {
        return farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("bench-logs-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addPlatforms(PLATFORM)
                        .setRepository(farm.registry + "/bench/logs")
                        .addTags(tag)
                        .setNoCache(true))
                .build());
    }

    private List<Figure> measure(Farm.GitRepo repo) throws Exception {
        System.out.printf(Locale.ROOT, "logs: one %s build printing %,d lines (RUN seq 1 %d), follower from submit%n",
                PLATFORM, lines, lines);
        Build build = submit(repo, "latest");
        Processes.CpuWindow cpu = new Processes.CpuWindow(accounted());
        Following following = follow(build);
        Received seen = following.seen();
        StoredSampler sampler = following.sampler();
        boolean finished = following.await();
        String cpuUsed = cpu.summary();
        System.out.println("logs: CPU from submit to the stream's end, " + cpuUsed);
        diagnosis.add("T5 CPU from submit to the follower's end, " + cpuUsed + ".");
        if (!finished) {
            farm.cancelQuietly(build.getName());
            throw new IllegalStateException("the log stream of " + build.getName() + " did not end in time; "
                    + seen.count + " of " + lines + " lines received");
        }
        if (following.failure().get() != null) {
            throw new IllegalStateException("the log stream of " + build.getName() + " failed", following.failure().get());
        }
        Build after = farm.get(build.getName());
        System.out.printf(Locale.ROOT, "logs: %s ended %s; %,d of %,d RUN lines received in %,d chunks, %d out of order%n",
                build.getName(), after.getState(), seen.count, lines, seen.chunks, seen.outOfOrder);
        if (seen.count == 0) {
            throw new IllegalStateException("no RUN line was received; build " + after.getState() + ": " + after.getFailureReason());
        }

        int n = seen.count;
        double[] latency = seen.latencyMillis();
        Stats stats = new Stats(latency);
        double receiveSpan = (seen.receivedMicros[n - 1] - seen.receivedMicros[0]) / 1e6;
        double readSpan = (seen.readMicros[n - 1] - seen.readMicros[0]) / 1e6;
        double linesPerSecond = n / receiveSpan;
        diagnose(seen, latency, sampler, readSpan, receiveSpan);

        String conditions = String.format(Locale.ROOT,
                "1 build, %s native, `RUN seq 1 %d` on busybox, no cache, after %d unmeasured warm-up builds of the same; "
                        + "1 follower (platform, follow) from submit; %,d lines; agent log-flush-interval 20 ms or a full batch of 5,000 lines, batches pipelined%s",
                PLATFORM, lines, warmupBuilds, n,
                SAMPLE_MILLIS > 0 ? "; store sampler every " + SAMPLE_MILLIS + " ms" : "");
        boolean complete = n == lines && seen.outOfOrder == 0;
        return List.of(
                new Figure("T5", "log line latency, agent read → watcher received", stats.millis(), "p99 ≤ 200 ms",
                        complete && stats.p99() <= 200, conditions + (complete ? "" : "; INCOMPLETE stream"), Map.of())
                        .withValues(stats.millisValues("")),
                new Figure("T5", "sustained log lines/s, one build", String.format(Locale.ROOT, "%,.0f lines/s (%,d lines in %.2f s; agent read them in %.2f s)",
                        linesPerSecond, n, receiveSpan, readSpan), "≥ 50,000 lines/s", complete && linesPerSecond >= 50_000, conditions, Map.of())
                        .withValues(Figure.values("lines_per_second", linesPerSecond, "lines", n)));
    }

    /** A follower (platform, follow) of the build's RUN lines, from now. */
    private Following follow(Build build) {
        Received seen = new Received(lines);
        CountDownLatch done = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        farm.buildsAsync().streamBuildLogs(StreamBuildLogsRequest.newBuilder()
                .setName(build.getName()).setPlatform(PLATFORM).setFollow(true).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(LogChunk chunk) {
                        long now = micros(Instant.now());
                        seen.chunks++;
                        for (BuildLogLine line : chunk.getLinesList()) {
                            if (!line.getStage().contains("RUN seq") || !isNumber(line.getText())) {
                                continue;
                            }
                            if (seen.count == seen.readMicros.length) {
                                continue;
                            }
                            if (Long.parseLong(line.getText()) != seen.expectNext) {
                                seen.outOfOrder++;
                            }
                            seen.expectNext = Long.parseLong(line.getText()) + 1;
                            seen.readMicros[seen.count] = micros(line.getTime().getSeconds(), line.getTime().getNanos());
                            seen.receivedMicros[seen.count] = now;
                            seen.offsets[seen.count] = line.getOffset();
                            seen.count++;
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        failure.set(t);
                        done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        done.countDown();
                    }
                });
        StoredSampler sampler = new StoredSampler(build.getName());
        sampler.start();
        return new Following(seen, done, failure, sampler);
    }

    /** Where the time goes: latency over the run, and the split at the moment lines were stored. */
    private void diagnose(Received seen, double[] latency, StoredSampler sampler, double readSpan, double receiveSpan) {
        int n = seen.count;
        System.out.println("logs: latency by position in the log (each tenth of the lines):");
        for (int tenth = 0; tenth < 10; tenth++) {
            int from = tenth * n / 10;
            int to = Math.max(from + 1, (tenth + 1) * n / 10);
            double[] slice = java.util.Arrays.copyOfRange(latency, from, Math.min(to, n));
            Stats s = new Stats(slice);
            System.out.printf(Locale.ROOT, "  lines %6d–%6d: read at +%6.0f ms, received at +%6.0f ms, latency p50 %s p99 %s%n",
                    from + 1, Math.min(to, n),
                    (seen.readMicros[from] - seen.readMicros[0]) / 1000.0,
                    (seen.receivedMicros[from] - seen.readMicros[0]) / 1000.0, Stats.ms(s.p50()), Stats.ms(s.p99()));
        }
        System.out.printf(Locale.ROOT, "logs: the agent read %,d lines in %.2f s (%,.0f lines/s); the follower received them over %.2f s%n",
                n, readSpan, n / Math.max(readSpan, 1e-6), receiveSpan);
        List<long[]> samples = sampler.samples();
        if (samples.isEmpty()) {
            System.out.println(SAMPLE_MILLIS <= 0 ? "logs: stored-line sampler off (BENCH_LOG_SAMPLE_MS=0)"
                    : "logs: no stored-line samples (database not readable: " + sampler.error + ")");
            return;
        }
        // For each line: the first sample at which the controller had stored it.
        double[] toStored = new double[n];
        double[] storedToReceived = new double[n];
        int sample = 0;
        int split = 0;
        for (int i = 0; i < n; i++) {
            while (sample < samples.size() && samples.get(sample)[1] <= seen.offsets[i]) {
                sample++;
            }
            if (sample == samples.size()) {
                break;
            }
            long storedMicros = samples.get(sample)[0];
            toStored[split] = (storedMicros - seen.readMicros[i]) / 1000.0;
            storedToReceived[split] = (seen.receivedMicros[i] - storedMicros) / 1000.0;
            split++;
        }
        Stats stored = new Stats(java.util.Arrays.copyOf(toStored, split));
        Stats follower = new Stats(java.util.Arrays.copyOf(storedToReceived, split));
        // Store rate: from the first sample with a line stored to the first with them all.
        long total = samples.get(samples.size() - 1)[1];
        long firstStored = -1;
        long allStored = -1;
        for (long[] s : samples) {
            if (s[1] > 0 && firstStored < 0) {
                firstStored = s[0];
            }
            if (s[1] == total && allStored < 0) {
                allStored = s[0];
            }
        }
        long storeRate = allStored > firstStored ? Math.round(total / ((allStored - firstStored) / 1e6)) : 0;
        System.out.printf(Locale.ROOT, "logs: split of the latency (%,d store samples every ~%.0f ms, %,d lines placed):%n",
                samples.size(), sampler.meanIntervalMillis(), split);
        System.out.printf(Locale.ROOT, "  agent read → stored in PostgreSQL : %s%n", stored.millis());
        System.out.printf(Locale.ROOT, "  stored → follower received        : %s (includes up to one sample interval)%n", follower.millis());
        System.out.printf(Locale.ROOT, "  store rate while storing           : ~%,d lines/s (all lines of the platform build)%n", storeRate);
        diagnosis.add(String.format(Locale.ROOT, "T5 split: agent read → stored in PostgreSQL %s; stored → watcher received %s; "
                        + "the agent read the lines at %,.0f/s, the controller stored them at ~%,d/s.", stored.millis(), follower.millis(),
                n / Math.max(readSpan, 1e-6), storeRate));
    }

    /** Samples (time, lines stored) of the build's linux/amd64 log, read-only, as fast as the database answers. */
    private final class StoredSampler implements Runnable {
        private final String buildName;
        private final List<long[]> samples = new ArrayList<>();
        private final Thread thread = new Thread(this, "stored-sampler");
        private volatile boolean stop;
        volatile String error = "";

        StoredSampler(String buildName) {
            this.buildName = buildName;
            thread.setDaemon(true);
        }

        void start() {
            if (SAMPLE_MILLIS > 0) {
                thread.start();
            }
        }

        void stop() throws InterruptedException {
            stop = true;
            if (thread.isAlive()) {
                thread.join(5_000);
            }
        }

        @Override
        public void run() {
            UUID buildId = UUID.fromString(buildName.substring("builds/".length()));
            try (Connection db = DriverManager.getConnection(farm.pgUrl, farm.pgUser, farm.pgPassword)) {
                db.setAutoCommit(true);
                db.setReadOnly(true);
                // The platform build's line counter moves in the transaction that stores the lines; reading
                // it costs the database little, unlike counting the stored lines, which would compete with the run.
                try (PreparedStatement count = db.prepareStatement(
                        "select log_lines from platform_build where build_id = ? and platform = ?")) {
                    count.setObject(1, buildId);
                    count.setString(2, PLATFORM);
                    while (!stop) {
                        // Timed before the query: what it counts was committed before its snapshot, so the time
                        // after it would make lines look stored later than they were (even after the watcher had them).
                        long askedMicros = micros(Instant.now());
                        try (ResultSet rs = count.executeQuery()) {
                            long stored = rs.next() ? rs.getLong(1) : 0;
                            synchronized (samples) {
                                samples.add(new long[] {askedMicros, stored});
                            }
                        }
                        Thread.sleep(SAMPLE_MILLIS);
                    }
                }
            } catch (SQLException e) {
                error = e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        List<long[]> samples() {
            synchronized (samples) {
                return new ArrayList<>(samples);
            }
        }

        double meanIntervalMillis() {
            List<long[]> s = samples();
            return s.size() < 2 ? 0 : (s.get(s.size() - 1)[0] - s.get(0)[0]) / 1000.0 / (s.size() - 1);
        }
    }

    private static boolean isNumber(String text) {
        if (text.isEmpty() || text.length() > 9) {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (!Character.isDigit(text.charAt(i))) {
                return false;
            }
        }
        return true;
    }

    private static long micros(Instant instant) {
        return micros(instant.getEpochSecond(), instant.getNano());
    }

    private static long micros(long seconds, int nanos) {
        return seconds * 1_000_000 + nanos / 1_000;
    }
}
