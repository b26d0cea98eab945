package dev.buildfarm.bench;

import com.google.rpc.RetryInfo;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Fair share: the queue wait (SubmitBuild sent → platform start_time) of one build of namespace
 * fair-b, on an idle farm and while namespace fair-a floods linux/amd64 with builds (fair-a may have
 * one job in flight on the dev farm). The ratio flooded / idle says what the flood costs the others.
 */
final class FairnessBench {

    private final Farm farm;
    private final int rounds;
    private final int flood;

    FairnessBench(Farm farm, int rounds, int flood) {
        this.farm = farm;
        this.rounds = rounds;
        this.flood = flood;
    }

    List<Figure> run() throws Exception {
        Farm.GitRepo repo = farm.gitRepo("bench-fair", Map.of("Dockerfile", "FROM " + farm.baseImage + "\nLABEL fair=share\n"));
        String commit = repo.git("rev-parse", "HEAD").trim();
        List<String> submitted = new ArrayList<>();
        List<Double> idle = new ArrayList<>();
        List<Double> flooded = new ArrayList<>();
        try {
            wait(repo, commit, submitted); // warm-up
            for (int i = 0; i < rounds; i++) {
                idle.add(wait(repo, commit, submitted));
            }
            System.out.printf(Locale.ROOT, "fairness: fair-a submits %d builds%n", flood);
            for (int i = 0; i < flood; i++) {
                submitted.add(submit(repo, commit, "fair-a").getName());
            }
            for (int i = 0; i < rounds; i++) {
                flooded.add(wait(repo, commit, submitted));
            }
        } finally {
            submitted.forEach(farm::cancelQuietly);
            repo.delete();
        }
        Stats idleStats = Stats.of(idle);
        Stats floodStats = Stats.of(flooded);
        double ratio = floodStats.p50() / idleStats.p50();
        System.out.printf(Locale.ROOT, "fairness: fair-b queue wait idle %s, while fair-a floods %s, ratio %.2f%n",
                idleStats.millis(), floodStats.millis(), ratio);
        return List.of(new Figure("#6", "fair share: a quiet namespace's queue wait while another floods",
                String.format(Locale.ROOT, "ratio %.2f (p50 %s flooded vs %s idle)", ratio, Stats.ms(floodStats.p50()), Stats.ms(idleStats.p50())),
                "ratio ≤ 2", ratio <= 2,
                String.format(Locale.ROOT, "%d fair-b builds one at a time (linux/amd64, FROM busybox + LABEL), on an idle farm and "
                        + "after fair-a submitted %d (namespace limit 1 on the dev farm); SubmitBuild sent → platform start_time", rounds, flood),
                Map.of()).withValues(Figure.values("ratio", ratio, "idle_p50_ms", idleStats.p50(), "flooded_p50_ms", floodStats.p50())));
    }

    /** One fair-b build: milliseconds from submit to its platform's start. */
    private double wait(Farm.GitRepo repo, String commit, List<String> submitted) throws Exception {
        long sent = System.currentTimeMillis();
        Build build = submit(repo, commit, "fair-b");
        submitted.add(build.getName());
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < deadline) {
            Build now = farm.get(build.getName());
            if (now.getPlatformBuilds(0).hasStartTime()) {
                var start = now.getPlatformBuilds(0).getStartTime();
                return start.getSeconds() * 1000.0 + start.getNanos() / 1e6 - sent;
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException(build.getName() + " did not start within 2 minutes");
    }

    private Build submit(Farm.GitRepo repo, String commit, String namespace) throws InterruptedException {
        SubmitBuildRequest request = SubmitBuildRequest.newBuilder()
                .setRequestId("bench-fair-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setCommit(commit))
                        .addPlatforms("linux/amd64")
                        .setRepository(farm.registry + "/" + namespace + "/app")
                        .addTags("latest"))
                .build();
        while (true) {
            try {
                return farm.builds().submitBuild(request);
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
                    throw e;
                }
                long millis = StatusProto.fromThrowable(e).getDetailsList().stream().filter(a -> a.is(RetryInfo.class)).findFirst()
                        .map(a -> {
                            try {
                                var d = a.unpack(RetryInfo.class).getRetryDelay();
                                return d.getSeconds() * 1000 + d.getNanos() / 1_000_000;
                            } catch (com.google.protobuf.InvalidProtocolBufferException x) {
                                return 100L;
                            }
                        }).orElse(100L);
                Thread.sleep(millis);
            }
        }
    }
}
