package dev.buildfarm.bench;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Context;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Issue 4, cancel: builds whose RUN is `echo started && sleep 600`, alternating native linux/amd64
 * and emulated linux/arm64, one at a time. Once the log shows "started" and the sleep container runs
 * (docker ps), CancelBuild; cancel-to-stopped = until that container no longer exists
 * (docker ps -a --filter id=…), measured with the docker CLI as a user would.
 */
final class CancelBench {

    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64");

    private final Farm farm;
    private final int rounds;

    CancelBench(Farm farm, int rounds) {
        this.farm = farm;
        this.rounds = rounds;
    }

    private record Round(String platform, double stoppedMillis, double goneMillis, double cancelRpcMillis) {
    }

    List<Figure> run() throws Exception {
        String dockerfile = "FROM " + farm.baseImage + "\nRUN echo started && sleep 600\n";
        Farm.GitRepo repo = farm.gitRepo("bench-cancel", Map.of("Dockerfile", dockerfile));
        List<Round> results = new ArrayList<>();
        try {
            System.out.printf(Locale.ROOT, "cancel: %d builds of `RUN echo started && sleep 600`, alternating %s, one at a time%n",
                    rounds, String.join(" and ", PLATFORMS));
            for (int i = 0; i < rounds; i++) {
                String platform = PLATFORMS.get(i % PLATFORMS.size());
                Round round = round(repo, platform);
                results.add(round);
                System.out.printf(Locale.ROOT, "cancel %2d (%s): CancelBuild answered in %s, container stopped after %s, gone after %s%n",
                        i + 1, platform, Stats.ms(round.cancelRpcMillis()), Stats.ms(round.stoppedMillis()), Stats.ms(round.goneMillis()));
            }
        } finally {
            repo.delete();
        }
        Stats gone = Stats.of(results.stream().map(Round::goneMillis).toList());
        Stats stopped = Stats.of(results.stream().map(Round::stoppedMillis).toList());
        for (String platform : PLATFORMS) {
            Stats p = Stats.of(results.stream().filter(r -> r.platform().equals(platform)).map(Round::goneMillis).toList());
            System.out.printf(Locale.ROOT, "cancel: %s: %s%n", platform, p.millis());
        }
        System.out.printf(Locale.ROOT, "cancel: container no longer running after: %s%n", stopped.millis());
        return List.of(new Figure("#4", "cancel-to-stopped (CancelBuild sent → RUN container gone)",
                gone.millis() + String.format(Locale.ROOT, " (n=%d)", gone.count()), "p99 ≤ 5 s", gone.p99() <= 5_000,
                String.format(Locale.ROOT, "%d builds one at a time, alternating %s (native) and %s (QEMU); cancelled once "
                        + "\"started\" is in the log and the `sleep 600` container runs; polled with docker ps; agent heartbeat 2 s",
                        results.size(), PLATFORMS.get(0), PLATFORMS.get(1)), Map.of()).withValues(gone.millisValues("")));
    }

    private Round round(Farm.GitRepo repo, String platform) throws Exception {
        Set<String> before = sleepingContainers();
        Build build = farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("bench-cancel-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addPlatforms(platform)
                        .setRepository(farm.registry + "/bench/cancel")
                        .addTags("latest"))
                .build());
        try {
            awaitStarted(build.getName());
            String container = awaitSleepingContainer(before);
            long start = System.nanoTime();
            Build cancelled = farm.builds().withDeadlineAfter(30, TimeUnit.SECONDS)
                    .cancelBuild(CancelBuildRequest.newBuilder().setName(build.getName()).build());
            double rpc = (System.nanoTime() - start) / 1e6;
            if (cancelled.getState() != Build.State.CANCELLED) {
                throw new IllegalStateException(build.getName() + " is " + cancelled.getState() + " after CancelBuild");
            }
            double stopped = Double.NaN;
            long deadline = start + TimeUnit.SECONDS.toNanos(60);
            while (System.nanoTime() < deadline) {
                // One CLI call per look: empty once the container is removed, else its state.
                String state = Farm.docker("ps", "-a", "--no-trunc", "--filter", "id=" + container, "--format", "{{.State}}");
                long now = System.nanoTime();
                if (Double.isNaN(stopped) && !state.equals("running")) {
                    stopped = (now - start) / 1e6;
                }
                if (state.isEmpty()) {
                    return new Round(platform, stopped, (now - start) / 1e6, rpc);
                }
            }
            throw new IllegalStateException("container " + container + " of " + build.getName() + " still exists 60 s after CancelBuild");
        } finally {
            farm.cancelQuietly(build.getName());
        }
    }

    /** Follows the log until the RUN prints "started". */
    private void awaitStarted(String name) throws InterruptedException {
        CountDownLatch started = new CountDownLatch(1);
        Context.CancellableContext follow = Context.current().withCancellation();
        follow.run(() -> farm.buildsAsync().streamBuildLogs(StreamBuildLogsRequest.newBuilder().setName(name).setFollow(true).build(),
                new StreamObserver<>() {
                    @Override
                    public void onNext(LogChunk chunk) {
                        for (BuildLogLine line : chunk.getLinesList()) {
                            if (line.getText().equals("started")) {
                                started.countDown();
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
        try {
            if (!started.await(5, TimeUnit.MINUTES)) {
                throw new IllegalStateException(name + " printed no \"started\" within 5 minutes: " + farm.get(name).getState());
            }
        } finally {
            follow.cancel(null);
        }
    }

    /** The id of a `sleep 600` container that was not running before the submit. */
    private String awaitSleepingContainer(Set<String> before) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Set<String> now = sleepingContainers();
            now.removeAll(before);
            if (!now.isEmpty()) {
                return now.iterator().next();
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("no `sleep 600` container appeared within 60 s of \"started\"");
    }

    private static Set<String> sleepingContainers() throws Exception {
        return Farm.docker("ps", "--no-trunc", "--format", "{{.ID}} {{.Command}}").lines()
                .filter(l -> l.contains("sleep 600"))
                .map(l -> l.split(" ")[0])
                .collect(Collectors.toSet());
    }
}
