package dev.buildfarm.bench;

import com.google.protobuf.Timestamp;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * T3, T4 and T6 from the same builds: small four-platform builds one at a time on an idle farm, each
 * followed by a log watcher (StreamBuildLogs, all platforms, follow) opened as soon as SubmitBuild
 * answers. Times come from this host's one clock: the bench's, and the controller's in the build
 * record (platform start_time is written by the claim, end_time by the agent's digest report,
 * the build's end_time once the assembler has published the index).
 *
 * <ul>
 *   <li>T3 submit → claimed: SubmitBuild sent → each platform's start_time. Every other build names a
 *       branch (the controller runs `git ls-remote`, as for a user's submit), the others pin the commit,
 *       so the ref resolution shows apart.</li>
 *   <li>T4 submit → first log line: SubmitBuild sent → the watcher's first line, whatever it is
 *       (usually the agent's own checkout stage).</li>
 *   <li>T6 last digest → index published: build end_time − the latest platform end_time.</li>
 * </ul>
 */
final class LifecycleBench {

    private static final List<String> PLATFORMS = Farm.ALL_PLATFORMS;

    private final Farm farm;
    private final int builds;
    private final List<String> diagnosis;

    LifecycleBench(Farm farm, int builds, List<String> diagnosis) {
        this.farm = farm;
        this.builds = builds;
        this.diagnosis = diagnosis;
    }

    /**
     * One build. toKafkaMillis and kafkaToClaimMillis split each platform's claim at the job record's
     * Kafka timestamp (set by the controller's producer when it sent the job; millisecond resolution).
     */
    private record Sample(boolean byRef, double answerMillis, List<Double> claimMillis, double firstLineMillis, double publishMillis,
                          List<Double> toKafkaMillis, List<Double> kafkaToClaimMillis) {
    }

    List<Figure> run() throws Exception {
        // No RUN: nothing executes under QEMU, so a build is short and the figures are the farm's own.
        String dockerfile = "FROM " + farm.baseImage + "\nARG TARGETPLATFORM\nLABEL dev.buildfarm.bench=\"lifecycle $TARGETPLATFORM\"\n";
        Farm.GitRepo repo = farm.gitRepo("bench-lifecycle", Map.of("Dockerfile", dockerfile));
        String commit = repo.git("rev-parse", "HEAD");
        List<Sample> samples = new ArrayList<>();
        try (JobTopicWatcher jobs = new JobTopicWatcher(farm.kafka, Farm.env("BENCH_TOPIC_PREFIX", "buildfarm."))) {
            // One unmeasured build first: the base image per platform is pulled and the paths are warm.
            sample(repo, commit, false, jobs);
            for (int i = 0; i < builds; i++) {
                Thread.sleep(500); // the agent reports idle and its consumers sit in poll
                Sample s = sample(repo, commit, i % 2 == 0, jobs);
                samples.add(s);
                System.out.printf(Locale.ROOT, "lifecycle %2d (%s): answered %s, claimed %s, first log line %s, index published %s after the last digest%n",
                        i + 1, s.byRef() ? "ref" : "commit", Stats.ms(s.answerMillis()),
                        Stats.of(s.claimMillis()).millis(), Stats.ms(s.firstLineMillis()), Stats.ms(s.publishMillis()));
            }
        } finally {
            repo.delete();
        }
        Stats claimRef = Stats.of(samples.stream().filter(Sample::byRef).flatMap(s -> s.claimMillis().stream()).toList());
        Stats claimPinned = Stats.of(samples.stream().filter(s -> !s.byRef()).flatMap(s -> s.claimMillis().stream()).toList());
        Stats answerRef = Stats.of(samples.stream().filter(Sample::byRef).map(Sample::answerMillis).toList());
        Stats answerPinned = Stats.of(samples.stream().filter(s -> !s.byRef()).map(Sample::answerMillis).toList());
        Stats firstLine = Stats.of(samples.stream().map(Sample::firstLineMillis).toList());
        Stats publish = Stats.of(samples.stream().map(Sample::publishMillis).toList());
        Stats toKafka = Stats.of(samples.stream().flatMap(s -> s.toKafkaMillis().stream()).toList());
        Stats kafkaToClaim = Stats.of(samples.stream().flatMap(s -> s.kafkaToClaimMillis().stream()).toList());
        diagnosis.add(String.format(Locale.ROOT, "T3 split, p50 / p99 over every claim: SubmitBuild sent → job on Kafka (record timestamp) %s / %s; "
                        + "job on Kafka → claimed %s / %s; SubmitBuild answered (pinned commit) %s / %s, (branch, with ls-remote) %s / %s.",
                Stats.ms(toKafka.p50()), Stats.ms(toKafka.p99()), Stats.ms(kafkaToClaim.p50()), Stats.ms(kafkaToClaim.p99()),
                Stats.ms(answerPinned.p50()), Stats.ms(answerPinned.p99()), Stats.ms(answerRef.p50()), Stats.ms(answerRef.p99())));
        String conditions = String.format(Locale.ROOT, "%d four-platform builds one at a time after a warm-up build, 0.5 s apart, idle farm "
                + "(one agent, 4 platform consumers); Dockerfile FROM busybox + LABEL, layer cache on", samples.size());
        return List.of(
                new Figure("T3", "submit → agent claimed, idle farm",
                        String.format(Locale.ROOT, "by branch: p50 %s, p99 %s (n=%d claims; SubmitBuild answered p50 %s, ls-remote included); "
                                        + "commit pinned: p50 %s, p99 %s (n=%d; answered p50 %s)",
                                Stats.ms(claimRef.p50()), Stats.ms(claimRef.p99()), claimRef.count(), Stats.ms(answerRef.p50()),
                                Stats.ms(claimPinned.p50()), Stats.ms(claimPinned.p99()), claimPinned.count(), Stats.ms(answerPinned.p50())),
                        "p50 ≤ 15 ms, p99 ≤ 50 ms", claimRef.p50() <= 15 && claimRef.p99() <= 50,
                        conditions + "; SubmitBuild sent → platform start_time (written by the claim); met is judged by the branch submits, "
                                + "as users send them", Map.of())
                        .withValues(claimRef.millisValues("ref_")).withValues(claimPinned.millisValues("pinned_")),
                new Figure("T4", "submit → first log line at a watcher",
                        String.format(Locale.ROOT, "p50 %s, p99 %s (n=%d)", Stats.ms(firstLine.p50()), Stats.ms(firstLine.p99()), firstLine.count()),
                        "p99 ≤ 2 s", firstLine.p99() <= 2000,
                        conditions + "; SubmitBuild sent → first line received by StreamBuildLogs (all platforms, follow) opened on the answer",
                        Map.of()).withValues(firstLine.millisValues("")),
                new Figure("T6", "last platform digest → index published",
                        String.format(Locale.ROOT, "p50 %s, p99 %s (n=%d)", Stats.ms(publish.p50()), Stats.ms(publish.p99()), publish.count()),
                        "p50 ≤ 150 ms, p99 ≤ 500 ms", publish.p50() <= 150 && publish.p99() <= 500,
                        conditions + "; build end_time (SUCCEEDED, after the assembler published) − the last platform's end_time (digest reported)",
                        Map.of()).withValues(publish.millisValues("")));
    }

    private Sample sample(Farm.GitRepo repo, String commit, boolean byRef, JobTopicWatcher jobs) throws Exception {
        GitSource source = byRef ? GitSource.newBuilder().setUrl(repo.url()).setRef("main").build()
                : GitSource.newBuilder().setUrl(repo.url()).setCommit(commit).build();
        Instant sent = Instant.now();
        long sentNanos = System.nanoTime();
        Build build = farm.builds().withDeadlineAfter(60, TimeUnit.SECONDS).submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("bench-lifecycle-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(source)
                        .addAllPlatforms(PLATFORMS)
                        .setRepository(farm.registry + "/bench/lifecycle")
                        .addTags("latest"))
                .build());
        double answered = (System.nanoTime() - sentNanos) / 1e6;
        AtomicLong firstLine = new AtomicLong();
        CountDownLatch ended = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        farm.buildsAsync().streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(build.getName()).setFollow(true).build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(LogChunk chunk) {
                        if (chunk.getLinesCount() > 0) {
                            firstLine.compareAndSet(0, System.nanoTime());
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                        failure.set(t);
                        ended.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        ended.countDown();
                    }
                });
        if (!ended.await(5, TimeUnit.MINUTES)) {
            farm.cancelQuietly(build.getName());
            throw new IllegalStateException(build.getName() + " did not end within 5 minutes");
        }
        if (failure.get() != null) {
            throw new IllegalStateException("the log stream of " + build.getName() + " failed", failure.get());
        }
        Build done = farm.get(build.getName());
        for (int i = 0; i < 50 && !isFinal(done.getState()); i++) {
            Thread.sleep(100);
            done = farm.get(build.getName());
        }
        if (done.getState() != Build.State.SUCCEEDED) {
            throw new IllegalStateException(build.getName() + " ended " + done.getState() + ": " + done.getFailureReason());
        }
        List<Double> claims = new ArrayList<>();
        List<Double> toKafka = new ArrayList<>();
        List<Double> kafkaToClaim = new ArrayList<>();
        List<JobTopicWatcher.Seen> records = jobs.await(build.getName(), PLATFORMS.size(), java.time.Duration.ofSeconds(30));
        long lastDigest = 0;
        for (PlatformBuild pb : done.getPlatformBuildsList()) {
            claims.add((micros(pb.getStartTime()) - micros(sent)) / 1000.0);
            lastDigest = Math.max(lastDigest, micros(pb.getEndTime()));
            String topicSuffix = "jobs." + pb.getPlatform().replace('/', '-');
            records.stream().filter(r -> r.partition().topic().endsWith(topicSuffix)).findFirst().ifPresent(r -> {
                toKafka.add(r.recordTimestampMillis() - micros(sent) / 1000.0);
                kafkaToClaim.add(micros(pb.getStartTime()) / 1000.0 - r.recordTimestampMillis());
            });
        }
        double publish = (micros(done.getEndTime()) - lastDigest) / 1000.0;
        double first = firstLine.get() == 0 ? Double.NaN : (firstLine.get() - sentNanos) / 1e6;
        return new Sample(byRef, answered, claims, first, publish, toKafka, kafkaToClaim);
    }

    private static boolean isFinal(Build.State state) {
        return state == Build.State.SUCCEEDED || state == Build.State.FAILED || state == Build.State.CANCELLED;
    }

    private static long micros(Timestamp t) {
        return t.getSeconds() * 1_000_000 + t.getNanos() / 1_000;
    }

    private static long micros(Instant t) {
        return t.getEpochSecond() * 1_000_000 + t.getNano() / 1_000;
    }
}
