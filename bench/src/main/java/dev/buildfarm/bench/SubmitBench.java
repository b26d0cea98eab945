package dev.buildfarm.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.RemoveMembersFromConsumerGroupOptions;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;

/**
 * T1 and T2: what SubmitBuild costs, with dispatch measured apart.
 *
 * <p>The agent is stopped (SIGTERM, as dev/services.sh down does) for the whole measurement, so no job
 * is claimed or built and the farm does only what a submit does: validate, store the build, its four platform builds and their
 * outbox records in one transaction, answer; the controller's relay still sends every job to Kafka
 * as it would, and a plain consumer times when each job arrives, which is reported as its own row.
 * Specs pin the commit (as build rules and webhooks do), so no `git ls-remote` is in the path; T3
 * measures the ref path.
 *
 * <ul>
 *   <li>T1: closed loop, a fixed number of SubmitBuild calls in flight (async stub, semaphore) for
 *       the run's length after a warm-up; accepted = answered OK; durable = found in PostgreSQL
 *       afterwards.</li>
 *   <li>T2: open loop at a fixed rate (OpenLoopSchedule), latency from when each call was due.</li>
 * </ul>
 *
 * Afterwards every build is cancelled, the agent's consumer groups are moved past the jobs of these
 * builds (and only those; they could only be refused) and the agent is started again
 * (dev/services.sh up). Stopped, not paused: a consumer paused past its session timeout and then
 * resumed fails its next commit and, in this agent, stops serving its platform.
 */
final class SubmitBench {

    private static final List<String> PLATFORMS = Farm.ALL_PLATFORMS;
    /** Open loop: more calls than this outstanding and the sender waits (the wait still counts as latency). */
    private static final int MAX_OUTSTANDING = 256;
    /** Open loop: a sender this far behind its schedule stops; the farm cannot take the rate, and the rest is not sent. */
    private static final long GIVE_UP_BEHIND_NANOS = TimeUnit.SECONDS.toNanos(5);

    record Settings(Duration warmup, Duration t1, int concurrency, double t2Rate, Duration t2, boolean profile) {
    }

    private final Farm farm;
    private final Processes processes;
    private final RssSampler rss;
    private final Settings settings;
    private final List<String> diagnosis;
    private final String topicPrefix = Farm.env("BENCH_TOPIC_PREFIX", "buildfarm.");
    private final String run = Farm.shortId();

    SubmitBench(Farm farm, Processes processes, RssSampler rss, Settings settings, List<String> diagnosis) {
        this.farm = farm;
        this.processes = processes;
        this.rss = rss;
        this.settings = settings;
        this.diagnosis = diagnosis;
    }

    /** What one load phase saw. */
    private static final class Load {
        final Queue<Double> answerMillis = new ConcurrentLinkedQueue<>();
        final Map<String, AtomicInteger> errors = new ConcurrentHashMap<>();
        final List<String> accepted = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger okInWindow = new AtomicInteger();
        final AtomicLong lastAnswer = new AtomicLong();
        int sent;
        int unsent;
        long firstSentNanos;
        long lastSentNanos;
        long maxLateNanos;

        String errorText() {
            return errors.isEmpty() ? "no errors" : "errors " + new TreeMap<>(errors);
        }

        int errorCount() {
            return errors.values().stream().mapToInt(AtomicInteger::get).sum();
        }
    }

    List<Figure> run() throws Exception {
        String dockerfile = "FROM " + farm.baseImage + "\nRUN echo never built: the agent is stopped\n";
        Farm.GitRepo repo = farm.gitRepo("bench-submit", Map.of("Dockerfile", dockerfile));
        String commit = repo.git("rev-parse", "HEAD");
        long agentPid = processes.service("agent").orElseThrow(() -> new IllegalStateException("the agent does not run"));
        long controllerPid = processes.service("controller").orElseThrow(() -> new IllegalStateException("the controller does not run"));
        ManagedChannel channel = farm.authenticated(farm.channelTo(farm.endpoint)).build();
        BuildServiceGrpc.BuildServiceFutureStub stub = BuildServiceGrpc.newFutureStub(channel);
        List<Figure> figures = new ArrayList<>();
        Set<String> benchBuilds = ConcurrentHashMap.newKeySet();
        awaitNoBusyAgent();
        Profiler profiler = null;
        boolean profiled = false;
        try (JobTopicWatcher jobs = new JobTopicWatcher(farm.kafka, topicPrefix)) {
            stopAgent(agentPid);
            try {
                System.out.printf(Locale.ROOT, "submit: agent (pid %d) stopped; %d-platform builds, commit pinned%n", agentPid, PLATFORMS.size());
                profiler = settings.profile() ? Profiler.start(controllerPid, "controller") : null;
                rss.phase("T1 load");

                Load warm = closedLoop(stub, repo.url(), commit, "w", settings.warmup());
                benchBuilds.addAll(warm.accepted);
                Processes.CpuWindow cpu = new Processes.CpuWindow(processes.accounted());
                Load t1 = closedLoop(stub, repo.url(), commit, "t1", settings.t1());
                String t1Cpu = cpu.summary();
                benchBuilds.addAll(t1.accepted);
                double seconds = settings.t1().toNanos() / 1e9;
                double perSecond = t1.okInWindow.get() / seconds;
                Stats t1Answers = Stats.of(new ArrayList<>(t1.answerMillis));
                System.out.printf(Locale.ROOT, "submit T1: %,.0f builds/s (%,d answered OK in %.0f s), answer %s, %s%n",
                        perSecond, t1.okInWindow.get(), seconds, t1Answers.millis(), t1.errorText());
                diagnosis.add("T1 CPU, " + t1Cpu + ".");

                Dispatch t1Dispatch = awaitDispatch(jobs, t1, PLATFORMS.size());
                long durable = countDurable("bench-t1-" + run + "-");
                figures.add(new Figure("T1", "SubmitBuild accepted and durable, builds/s",
                        String.format(Locale.ROOT, "%,.0f builds/s (%,d answered OK in %.0f s; %,d of %,d found in PostgreSQL after; answer %s; %s)",
                                perSecond, t1.okInWindow.get(), seconds, durable, t1.accepted.size(), t1Answers.millis(), t1.errorText()),
                        "≥ 1,000/s", perSecond >= 1000 && durable >= t1.accepted.size(),
                        String.format(Locale.ROOT, "%.0f s after a %.0f s warm-up; closed loop, %d calls in flight (async stub + semaphore), one HTTP/2 "
                                        + "connection; %d-platform spec, commit pinned, request_id set; agent stopped, relay running",
                                seconds, settings.warmup().toNanos() / 1e9, settings.concurrency(), PLATFORMS.size()),
                        Map.of()).withValues(Figure.values("builds_per_second", perSecond, "accepted", t1.okInWindow.get(),
                        "durable", durable, "errors", t1.errorCount())).withValues(t1Answers.millisValues("answer_")));
                figures.add(t1Dispatch.figure("T1", "dispatch of T1's builds, measured apart: every platform job on Kafka"));

                Load t2 = openLoop(stub, repo.url(), commit);
                benchBuilds.addAll(t2.accepted);
                Dispatch t2Dispatch = awaitDispatch(jobs, t2, PLATFORMS.size());
                rss.phase("");
                Stats latency = Stats.of(new ArrayList<>(t2.answerMillis));
                double sendSeconds = (t2.lastSentNanos - t2.firstSentNanos) / 1e9;
                System.out.printf(Locale.ROOT, "submit T2: %s at %.0f/s offered, %s; sender at most %s late%n",
                        latency.millis(), settings.t2Rate(), t2.errorText(), Stats.ms(t2.maxLateNanos / 1e6));
                if (t2.unsent > 0) {
                    System.out.printf(Locale.ROOT, "submit T2: gave up 5 s behind the schedule, %,d calls not sent%n", t2.unsent);
                }
                figures.add(new Figure("T2", "SubmitBuild latency at a fixed offered rate",
                        String.format(Locale.ROOT, "p50 %s, p99 %s, max %s (n=%,d answered; %s; sent at %,.0f/s, sender at most %s late%s)",
                                Stats.ms(latency.p50()), Stats.ms(latency.p99()), Stats.ms(latency.max()), latency.count(), t2.errorText(),
                                (t2.sent - 1) / Math.max(sendSeconds, 1e-9), Stats.ms(t2.maxLateNanos / 1e6),
                                t2.unsent == 0 ? "" : String.format(Locale.ROOT, "; OVERLOADED: %,d of %,d calls never sent, the farm fell 5 s "
                                        + "behind the schedule", t2.unsent, t2.unsent + t2.sent)),
                        "p50 ≤ 5 ms, p99 ≤ 25 ms", latency.p50() <= 5 && latency.p99() <= 25 && t2.errorCount() == 0 && t2.unsent == 0,
                        String.format(Locale.ROOT, "open loop, %.0f/s for %.0f s, latency from when each call was due (no coordinated "
                                        + "omission), at most %d in flight, given up 5 s behind; same spec and agent stopped as T1; "
                                        + "after T1's dispatch had drained", settings.t2Rate(), settings.t2().toNanos() / 1e9, MAX_OUTSTANDING),
                        Map.of()).withValues(latency.millisValues("")).withValues(Figure.values("errors", t2.errorCount(), "unsent", t2.unsent)));
                figures.add(t2Dispatch.figure("T2", "dispatch of T2's builds: every platform job on Kafka"));

                if (profiler != null) {
                    profiled = true;
                    FrameSummary summary = profiler.stop();
                    diagnosis.add("Controller profile during T1 + T2 (JFR, " + profiler.file() + "):");
                    summary.lines(12).forEach(line -> diagnosis.add("  " + line));
                }
            } finally {
                rss.phase("");
                if (profiler != null && !profiled) {
                    profiler.stopQuietly();
                }
                // From the database, not from the answers: a call that timed out may still have stored its build.
                benchBuilds.addAll(buildsOfThisRun(false));
                String cancelled = cancelAll(stub, buildsOfThisRun(true));
                String skipped = skipAgentPast(jobs, benchBuilds);
                String started = startAgent();
                System.out.println("submit: " + cancelled + "; " + skipped + "; " + started);
                awaitAgentGroups();
                awaitOutboxEmpty();
                channel.shutdownNow();
                repo.delete();
            }
        }
        return figures;
    }

    private SubmitBuildRequest request(String gitUrl, String commit, String requestId) {
        return farm.pinnedRequest(gitUrl, commit, requestId, "bench/submit");
    }

    /** Closed loop: `concurrency` calls in flight until the time is up; counts answers that arrived in time. */
    private Load closedLoop(BuildServiceGrpc.BuildServiceFutureStub stub, String source, String commit, String phase, Duration duration)
            throws InterruptedException {
        Load load = new Load();
        Semaphore inFlight = new Semaphore(settings.concurrency());
        long start = System.nanoTime();
        long end = start + duration.toNanos();
        load.firstSentNanos = start;
        while (System.nanoTime() < end) {
            inFlight.acquire();
            long sent = System.nanoTime();
            String id = "bench-" + phase + "-" + run + "-" + load.sent++;
            call(stub.withDeadlineAfter(30, TimeUnit.SECONDS).submitBuild(request(source, commit, id)), load, answered -> {
                if (answered <= end) {
                    load.okInWindow.incrementAndGet();
                }
                load.answerMillis.add((answered - sent) / 1e6);
            }, inFlight::release);
        }
        load.lastSentNanos = System.nanoTime();
        if (!inFlight.tryAcquire(settings.concurrency(), 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("SubmitBuild calls still unanswered 60 s after the run");
        }
        return load;
    }

    /** Open loop: one call due every 1/rate s; latency from when it was due. */
    private Load openLoop(BuildServiceGrpc.BuildServiceFutureStub stub, String source, String commit) throws InterruptedException {
        OpenLoopSchedule schedule = new OpenLoopSchedule(settings.t2Rate(), settings.t2());
        Load load = new Load();
        Semaphore outstanding = new Semaphore(MAX_OUTSTANDING);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        load.firstSentNanos = start;
        for (int i = 0; i < schedule.count(); i++) {
            long due = start + schedule.dueNanos(i);
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            outstanding.acquire();
            long sent = System.nanoTime();
            if (sent - due > GIVE_UP_BEHIND_NANOS) {
                outstanding.release();
                load.unsent = schedule.count() - i;
                break;
            }
            load.maxLateNanos = Math.max(load.maxLateNanos, sent - due);
            load.lastSentNanos = sent;
            load.sent++;
            call(stub.withDeadlineAfter(30, TimeUnit.SECONDS).submitBuild(request(source, commit, "bench-t2-" + run + "-" + i)), load,
                    answered -> load.answerMillis.add(OpenLoopSchedule.latencyMillis(due, answered)), outstanding::release);
        }
        if (!outstanding.tryAcquire(MAX_OUTSTANDING, 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("SubmitBuild calls still unanswered 60 s after the run");
        }
        return load;
    }

    private interface Answered {
        void at(long nanos);
    }

    private static void call(ListenableFuture<Build> future, Load load, Answered ok, Runnable always) {
        Futures.addCallback(future, new FutureCallback<>() {
            @Override
            public void onSuccess(Build build) {
                long now = System.nanoTime();
                load.lastAnswer.accumulateAndGet(now, Math::max);
                load.accepted.add(build.getName());
                ok.at(now);
                always.run();
            }

            @Override
            public void onFailure(Throwable t) {
                load.errors.computeIfAbsent(Status.fromThrowable(t).getCode().name(), k -> new AtomicInteger()).incrementAndGet();
                always.run();
            }
        }, MoreExecutors.directExecutor());
    }

    /** When every platform job of a phase's builds was on Kafka. */
    private record Dispatch(int jobs, int expected, double afterLastAnswerMillis, double jobsPerSecond, boolean complete) {

        Figure figure(String id, String name) {
            String result = complete
                    ? String.format(Locale.ROOT, "all %,d jobs on Kafka %s after the last answer; relay %,.0f jobs/s over the run",
                    jobs, Stats.ms(afterLastAnswerMillis), jobsPerSecond)
                    : String.format(Locale.ROOT, "only %,d of %,d jobs on Kafka after waiting; relay %,.0f jobs/s", jobs, expected, jobsPerSecond);
            return new Figure(id, name, result, "", null, "outbox relay inside the controller (batches of 200, acks=all); "
                    + "a plain consumer on buildfarm.jobs.* times each job", Map.of())
                    .withValues(Figure.values("jobs", jobs, "expected", expected,
                            "after_last_answer_ms", afterLastAnswerMillis, "jobs_per_second", jobsPerSecond));
        }
    }

    private Dispatch awaitDispatch(JobTopicWatcher jobs, Load load, int perBuild) throws InterruptedException {
        Set<String> builds = new HashSet<>(load.accepted);
        int expected = builds.size() * perBuild;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Farm.envInt("BENCH_DISPATCH_WAIT_SECONDS", 120));
        int seen = 0;
        long last = 0;
        while (true) {
            seen = 0;
            last = 0;
            for (JobTopicWatcher.Seen s : jobs.all()) {
                if (s.key() != null && builds.contains(s.key())) {
                    seen++;
                    last = Math.max(last, s.receivedNanos());
                }
            }
            if (seen >= expected || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(200);
        }
        double span = (last - load.firstSentNanos) / 1e9;
        return new Dispatch(seen, expected, (last - load.lastAnswer.get()) / 1e6, seen / Math.max(span, 1e-9), seen >= expected);
    }

    /** Names of the builds this run submitted (request_id bench-<phase>-<run>-<i>); only those not ended yet, if asked. */
    private List<String> buildsOfThisRun(boolean unfinishedOnly) throws Exception {
        List<String> names = new ArrayList<>();
        try (Connection db = DriverManager.getConnection(farm.pgUrl, farm.pgUser, farm.pgPassword);
             PreparedStatement select = db.prepareStatement("select id from build where request_id like ?"
                     + (unfinishedOnly ? " and state not in ('SUCCEEDED', 'FAILED', 'CANCELLED')" : ""))) {
            select.setString(1, "bench-%-" + run + "-%");
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    names.add("builds/" + rs.getString(1));
                }
            }
        }
        return names;
    }

    private long countDurable(String requestIdPrefix) throws Exception {
        try (Connection db = DriverManager.getConnection(farm.pgUrl, farm.pgUser, farm.pgPassword);
             PreparedStatement count = db.prepareStatement("select count(*) from build where request_id like ?")) {
            count.setString(1, requestIdPrefix + "%");
            try (ResultSet rs = count.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private String cancelAll(BuildServiceGrpc.BuildServiceFutureStub stub, List<String> builds) throws InterruptedException {
        Semaphore inFlight = new Semaphore(settings.concurrency());
        AtomicInteger failed = new AtomicInteger();
        long start = System.nanoTime();
        for (String name : builds) {
            inFlight.acquire();
            Futures.addCallback(stub.withDeadlineAfter(60, TimeUnit.SECONDS).cancelBuild(CancelBuildRequest.newBuilder().setName(name).build()),
                    new FutureCallback<>() {
                        @Override
                        public void onSuccess(Build build) {
                            inFlight.release();
                        }

                        @Override
                        public void onFailure(Throwable t) {
                            failed.incrementAndGet();
                            inFlight.release();
                        }
                    }, MoreExecutors.directExecutor());
        }
        inFlight.tryAcquire(settings.concurrency(), 120, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - start) / 1e9;
        return String.format(Locale.ROOT, "%,d unfinished builds of this run cancelled in %.1f s (%,.0f/s, %d refused)", builds.size(), seconds,
                builds.size() / Math.max(seconds, 1e-9), failed.get());
    }

    /**
     * Moves each agent consumer group past the jobs of the bench's (now cancelled) builds, so the
     * resumed agent does not spend minutes refusing them one claim at a time. A partition is moved
     * only if the group had read it up to where the watcher started and every record since is the
     * bench's; anything else is left for the agent.
     */
    private String skipAgentPast(JobTopicWatcher jobs, Set<String> benchBuilds) {
        Map<TopicPartition, Long> lastBench = new HashMap<>();
        Set<TopicPartition> foreign = new HashSet<>();
        for (JobTopicWatcher.Seen s : jobs.all()) {
            if (s.key() != null && benchBuilds.contains(s.key())) {
                lastBench.merge(s.partition(), s.offset(), Math::max);
            } else {
                foreign.add(s.partition());
            }
        }
        Map<TopicPartition, Long> start = jobs.startPositions();
        int moved = 0;
        List<String> left = new ArrayList<>();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", farm.kafka))) {
            for (String group : agentGroups(admin)) {
                String slug = group.substring("buildfarm-agents-".length()).replaceFirst("-emulated$", "");
                String topic = topicPrefix + "jobs." + slug;
                try {
                    // The stopped agent stays the group's static member until its session times out; offsets move only in an empty group.
                    admin.removeMembersFromConsumerGroup(group, new RemoveMembersFromConsumerGroupOptions()).all().get(30, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    // No members to remove.
                }
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                Map<TopicPartition, OffsetAndMetadata> moves = new HashMap<>();
                for (Map.Entry<TopicPartition, Long> e : lastBench.entrySet()) {
                    TopicPartition p = e.getKey();
                    if (!p.topic().equals(topic)) {
                        continue;
                    }
                    OffsetAndMetadata c = committed.get(p);
                    if (foreign.contains(p) || c == null || c.offset() != start.getOrDefault(p, -1L)) {
                        left.add(p.toString());
                        continue;
                    }
                    moves.put(p, new OffsetAndMetadata(e.getValue() + 1));
                }
                if (!moves.isEmpty()) {
                    admin.alterConsumerGroupOffsets(group, moves).all().get(30, TimeUnit.SECONDS);
                    moved += moves.size();
                }
            }
        } catch (Exception e) {
            return "agent offsets not moved (" + e + "): the agent will refuse the cancelled jobs one by one";
        }
        return "agent groups moved past the bench's jobs on " + moved + " partitions"
                + (left.isEmpty() ? "" : "; left for the agent to refuse: " + left);
    }

    /** SIGTERM, as dev/services.sh down sends; an idle agent exits at once. */
    private static void stopAgent(long pid) throws Exception {
        Farm.run(List.of("kill", Long.toString(pid)), Duration.ofSeconds(10));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the agent (pid " + pid + ") did not stop within 60 s");
            }
            Thread.sleep(100);
        }
    }

    private static String startAgent() throws Exception {
        long start = System.nanoTime();
        Farm.run(List.of(Path.of(Farm.env("REPO", ".")).resolve("dev/services.sh").toString(), "up"), Duration.ofMinutes(6));
        return String.format(Locale.ROOT, "agent started again and ready in %.1f s", (System.nanoTime() - start) / 1e9);
    }

    private void awaitNoBusyAgent() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            boolean busy = false;
            for (Agent agent : farm.builds().listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList()) {
                busy |= agent.getState() == Agent.State.BUSY || agent.getPlatformsList().stream().anyMatch(AgentPlatform::getBusy);
            }
            if (!busy) {
                return;
            }
            Thread.sleep(500);
        }
        throw new IllegalStateException("an agent is still busy after 2 minutes; T1 needs an idle farm");
    }

    /** After the restart: every agent group has a member again, so later figures start from a working farm. */
    private void awaitAgentGroups() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", farm.kafka))) {
            List<String> groups = agentGroups(admin);
            while (System.nanoTime() < deadline) {
                Map<String, ConsumerGroupDescription> described = admin.describeConsumerGroups(groups).all().get(30, TimeUnit.SECONDS);
                if (described.values().stream().allMatch(d -> d.groupState() == GroupState.STABLE && !d.members().isEmpty())) {
                    return;
                }
                Thread.sleep(500);
            }
        }
        System.out.println("submit: the agent's consumer groups were not all stable 60 s after the restart");
    }

    /**
     * The agents' consumer groups that exist: one per platform and kind (native, or "-emulated" for
     * agents that run it under QEMU), so which ones depends on the host.
     */
    @SuppressWarnings("deprecation") // listConsumerGroups: still the call for classic consumer groups
    private static List<String> agentGroups(Admin admin) throws Exception {
        Set<String> existing = new HashSet<>();
        admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).forEach(g -> existing.add(g.groupId()));
        List<String> groups = new ArrayList<>();
        for (String slug : JobTopicWatcher.PLATFORM_SLUGS) {
            for (String group : List.of("buildfarm-agents-" + slug, "buildfarm-agents-" + slug + "-emulated")) {
                if (existing.contains(group)) {
                    groups.add(group);
                }
            }
        }
        return groups;
    }

    private void awaitOutboxEmpty() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        try (Connection db = DriverManager.getConnection(farm.pgUrl, farm.pgUser, farm.pgPassword);
             PreparedStatement count = db.prepareStatement("select count(*) from outbox")) {
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = count.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        return;
                    }
                }
                Thread.sleep(500);
            }
        }
        System.out.println("submit: the outbox still had records 120 s after the cleanup");
    }
}
