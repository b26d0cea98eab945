package dev.buildfarm.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * What authentication adds to SubmitBuild: the same open-loop load against two controllers of their
 * own that dev/bench.sh auth starts on one database (so the farm's controller and its agents see
 * none of it): one with authentication off, reached in plaintext, and one with it on, reached in
 * plaintext with a token, over TLS with a token, and over mutual TLS with a token. The variants take
 * turns in short rounds, so drift of the shared machine spreads over all of them.
 */
final class AuthBench {

    private static final List<String> PLATFORMS = Farm.ALL_PLATFORMS;
    private static final int MAX_OUTSTANDING = 64;
    private static final double WARM_UP_SECONDS = 5;

    /** One way of calling: a channel (plaintext, TLS or mutual TLS) and whether it sends the token. */
    private record Variant(String key, String label, ManagedChannelBuilder<?> builder, boolean token) {
    }

    private final Farm farm;
    private final double rate;
    private final int rounds;
    private final double roundSeconds;
    private final String run = Long.toString(System.currentTimeMillis(), 36);

    AuthBench(Farm farm, double rate, int rounds, double roundSeconds) {
        this.farm = farm;
        this.rate = rate;
        this.rounds = rounds;
        this.roundSeconds = roundSeconds;
    }

    List<Figure> run() throws Exception {
        String off = Farm.env("BENCH_AUTH_OFF", "127.0.0.1:18281");
        String on = Farm.env("BENCH_AUTH_ON", "127.0.0.1:18381");
        String onTls = Farm.env("BENCH_AUTH_ON_TLS", "https://127.0.0.1:18743");
        List<Variant> variants = List.of(
                new Variant("a", "(a) no auth, plaintext", farm.channelTo(off), false),
                new Variant("b", "(b) token, plaintext", farm.channelTo(on), true),
                new Variant("c", "(c) token + TLS", farm.channelTo(onTls, null, null), true),
                new Variant("d", "(d) token + mutual TLS", farm.channelTo(onTls), true));
        Farm.GitRepo repo = farm.gitRepo("bench-auth", Map.of("Dockerfile", "FROM " + farm.baseImage + "\n"));
        String commit = repo.git("rev-parse", "HEAD");
        Map<String, List<Double>> latencies = new TreeMap<>();
        Map<String, Map<String, AtomicInteger>> errors = new TreeMap<>();
        List<ManagedChannel> channels = new ArrayList<>();
        try {
            List<BuildServiceGrpc.BuildServiceFutureStub> stubs = new ArrayList<>();
            for (Variant v : variants) {
                ManagedChannel channel = (v.token() ? farm.authenticated(v.builder()) : v.builder()).build();
                channels.add(channel);
                stubs.add(BuildServiceGrpc.newFutureStub(channel));
                latencies.put(v.key(), Collections.synchronizedList(new ArrayList<>()));
                errors.put(v.key(), new ConcurrentHashMap<>());
            }
            // Warm-up: connections (handshakes included), JIT and the database, not counted.
            for (int i = 0; i < variants.size(); i++) {
                openLoop(stubs.get(i), repo.url(), commit, "w" + i, WARM_UP_SECONDS, new ArrayList<>(), new ConcurrentHashMap<>());
            }
            for (int round = 0; round < rounds; round++) {
                for (int i = 0; i < variants.size(); i++) {
                    String key = variants.get(i).key();
                    openLoop(stubs.get(i), repo.url(), commit, key + round, roundSeconds, latencies.get(key), errors.get(key));
                }
                System.out.printf(Locale.ROOT, "auth: round %d of %d done%n", round + 1, rounds);
            }
        } finally {
            channels.forEach(ManagedChannel::shutdownNow);
            repo.delete();
        }
        Stats base = Stats.of(latencies.get("a"));
        String conditions = String.format(Locale.ROOT, "open loop at %.0f/s, latency from when each call was due; %d rounds of %.0f s "
                + "per variant, variants in turn, after a %.0f s warm-up each; one HTTP/2 connection per variant, set up (handshake "
                + "included) before measuring; 4-platform spec, commit pinned; two controllers started by dev/bench-auth.sh on "
                + "a database and topics of their own (one with auth off; one with auth on and TLS, client certificate checked when "
                + "presented; EC P-256 certificates of the dev CA)", rate, rounds, roundSeconds, WARM_UP_SECONDS);
        List<Figure> figures = new ArrayList<>();
        for (Variant v : variants) {
            Stats s = Stats.of(latencies.get(v.key()));
            String added = v.key().equals("a") ? "baseline"
                    : String.format(Locale.ROOT, "p99 %+.1f ms (×%.2f), p50 %+.1f ms vs (a)", s.p99() - base.p99(),
                            s.p99() / base.p99(), s.p50() - base.p50());
            Map<String, AtomicInteger> failed = errors.get(v.key());
            String result = String.format(Locale.ROOT, "%s (n=%,d%s); %s", s.millis(), s.count(),
                    failed.isEmpty() ? "" : "; errors " + new TreeMap<>(failed), added);
            figures.add(new Figure("auth", "SubmitBuild latency, " + v.label(), result, "", null, conditions, Map.of())
                    .withValues(s.millisValues(v.key() + "_"))
                    .withValues(Figure.values(v.key() + "_added_p99_ms", s.p99() - base.p99(), v.key() + "_p99_ratio", s.p99() / base.p99())));
        }
        return figures;
    }

    /** Calls due every 1/rate s for SECONDS; each latency counts from when its call was due. */
    private void openLoop(BuildServiceGrpc.BuildServiceFutureStub stub, String source, String commit, String phase, double seconds,
            List<Double> latencies, Map<String, AtomicInteger> errors) throws InterruptedException {
        OpenLoopSchedule schedule = new OpenLoopSchedule(rate, java.time.Duration.ofMillis(Math.round(seconds * 1000)));
        Semaphore outstanding = new Semaphore(MAX_OUTSTANDING);
        long start = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(20);
        for (int i = 0; i < schedule.count(); i++) {
            long due = start + schedule.dueNanos(i);
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            outstanding.acquire();
            Futures.addCallback(stub.withDeadlineAfter(30, TimeUnit.SECONDS).submitBuild(request(source, commit, "bench-auth-" + run + "-" + phase + "-" + i)),
                    new FutureCallback<Build>() {
                        @Override
                        public void onSuccess(Build build) {
                            latencies.add(OpenLoopSchedule.latencyMillis(due, System.nanoTime()));
                            outstanding.release();
                        }

                        @Override
                        public void onFailure(Throwable t) {
                            errors.computeIfAbsent(Status.fromThrowable(t).getCode().name(), k -> new AtomicInteger()).incrementAndGet();
                            outstanding.release();
                        }
                    }, MoreExecutors.directExecutor());
        }
        if (!outstanding.tryAcquire(MAX_OUTSTANDING, 60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("SubmitBuild calls still unanswered 60 s after a round");
        }
    }

    private SubmitBuildRequest request(String gitUrl, String commit, String requestId) {
        return farm.pinnedRequest(gitUrl, commit, requestId, "bench/auth");
    }
}
