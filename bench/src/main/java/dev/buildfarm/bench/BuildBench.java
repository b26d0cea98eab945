package dev.buildfarm.bench;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * T7 and T8: a four-platform build and publish through the farm (SubmitBuild sent → build
 * SUCCEEDED, i.e. the index and its tag are in the registry) against `podman build --platform …
 * --manifest` + `podman manifest push --all` of the same Dockerfile and context to the same
 * registry, on the same QEMU, in alternating rounds of one run so both see the same machine.
 *
 * <ul>
 *   <li>T7: no cache on either side (farm no_cache, podman --no-cache).</li>
 *   <li>T8: warm cache on both: one unmeasured round of each first, then the measured rounds.</li>
 * </ul>
 */
final class BuildBench {

    private static final List<String> PLATFORMS = Farm.ALL_PLATFORMS;

    private final Farm farm;
    private final int noCacheRounds;
    private final int cacheRounds;
    private final String gitUrl = Farm.env("BENCH_GIT_URL", "git://127.0.0.1:9418/examples.git");
    private final Path context = Path.of(Farm.env("BENCH_CONTEXT", "examples/hello")).toAbsolutePath();

    BuildBench(Farm farm, int noCacheRounds, int cacheRounds) {
        this.farm = farm;
        this.noCacheRounds = noCacheRounds;
        this.cacheRounds = cacheRounds;
    }

    List<Figure> run() throws Exception {
        List<Figure> figures = new ArrayList<>();
        if (noCacheRounds > 0) {
            figures.add(compare("T7", "four-platform build + publish vs podman, no cache", true, noCacheRounds, false, "ratio ≤ 1.1", 1.1));
        }
        if (cacheRounds > 0) {
            figures.add(compare("T8", "four-platform build + publish vs podman, warm cache", false, cacheRounds, true, "ratio ≤ 1.0", 1.0));
        }
        return figures;
    }

    private Figure compare(String id, String name, boolean noCache, int rounds, boolean warmUp, String target, double limit) throws Exception {
        String mode = noCache ? "no cache" : "warm cache";
        if (warmUp) {
            double f = farmBuild(noCache);
            double p = podmanBuild(noCache);
            System.out.printf(Locale.ROOT, "%s warm-up round (not counted): buildfarm %.2f s, podman %.2f s%n", id, f, p);
        }
        List<Double> farmTimes = new ArrayList<>();
        List<Double> podmanTimes = new ArrayList<>();
        for (int round = 1; round <= rounds; round++) {
            farmTimes.add(farmBuild(noCache));
            podmanTimes.add(podmanBuild(noCache));
            System.out.printf(Locale.ROOT, "%s round %d (%s): buildfarm %.2f s, podman %.2f s%n",
                    id, round, mode, farmTimes.get(round - 1), podmanTimes.get(round - 1));
        }
        double f = median(farmTimes);
        double p = median(podmanTimes);
        double ratio = f / p;
        return new Figure(id, name,
                String.format(Locale.ROOT, "ratio %.2f (buildfarm %.2f s, podman %.2f s)", ratio, f, p), target, ratio <= limit,
                String.format(Locale.ROOT, "%s, median of %d alternating round%s%s; %s (two stages, RUN under QEMU for arm) on %s; "
                                + "buildfarm: SubmitBuild sent → SUCCEEDED (index and tag published), one agent serving all four platforms; "
                                + "podman %s: build --platform … --manifest + manifest push --all",
                        mode, rounds, rounds == 1 ? "" : "s", warmUp ? " after one unmeasured warm-up round each" : "",
                        context.getFileName(), String.join(",", PLATFORMS), podmanVersion()),
                Map.of()).withValues(Figure.values("ratio", ratio, "buildfarm_s", f, "podman_s", p, "rounds", rounds));
    }

    private double farmBuild(boolean noCache) throws InterruptedException {
        BuildServiceGrpc.BuildServiceBlockingStub builds = farm.builds();
        long start = System.nanoTime();
        Build build = builds.submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("bench-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(gitUrl).setRef("main"))
                        .setDockerfileDirectory("hello")
                        .addAllPlatforms(PLATFORMS)
                        .setRepository(farm.registry + "/bench/buildfarm-hello")
                        .addTags("latest")
                        .setNoCache(noCache))
                .build());
        long deadline = start + TimeUnit.MINUTES.toNanos(20);
        while (true) {
            if (System.nanoTime() > deadline) {
                farm.cancelQuietly(build.getName());
                throw new IllegalStateException(build.getName() + " did not finish within 20 minutes");
            }
            Build now = builds.getBuild(GetBuildRequest.newBuilder().setName(build.getName()).build());
            switch (now.getState()) {
                case SUCCEEDED -> {
                    return (System.nanoTime() - start) / 1e9;
                }
                case FAILED, CANCELLED -> throw new IllegalStateException(build.getName() + " " + now.getState() + ": " + now.getFailureReason());
                default -> Thread.sleep(50);
            }
        }
    }

    private double podmanBuild(boolean noCache) throws Exception {
        String manifest = "localhost/bench-hello:" + UUID.randomUUID().toString().substring(0, 8);
        long start = System.nanoTime();
        List<String> build = new ArrayList<>(List.of("podman", "build", "--quiet", "--tls-verify=false",
                "--platform", String.join(",", PLATFORMS), "--manifest", manifest));
        if (noCache) {
            build.add("--no-cache");
        }
        build.add(context.toString());
        Farm.run(build, Duration.ofMinutes(30));
        Farm.run(List.of("podman", "manifest", "push", "--all", "--quiet", "--tls-verify=false", manifest,
                "docker://" + farm.registry + "/bench/podman-hello:latest"), Duration.ofMinutes(30));
        double seconds = (System.nanoTime() - start) / 1e9;
        Farm.run(List.of("podman", "manifest", "rm", manifest), Duration.ofMinutes(1));
        return seconds;
    }

    private static String podmanVersion() {
        try {
            return Farm.run(List.of("podman", "--version"), Duration.ofSeconds(30)).replace("podman version ", "");
        } catch (Exception e) {
            return "?";
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
