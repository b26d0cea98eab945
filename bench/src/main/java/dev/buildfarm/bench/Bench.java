package dev.buildfarm.bench;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/**
 * Benchmarks on the running farm and the real stack (dev/bench.sh runs them with the farm up). Every
 * mode ends with one Markdown table: a row per figure, with its target and conditions.
 *
 * <pre>
 * Bench [build] [rounds] [cache|no-cache]   four-platform build wall time, buildfarm vs podman (default: 3 no-cache)
 * Bench logs                                log line latency and sustained lines/s of one build (LogBench)
 * Bench cancel                              cancel-to-stopped time of running builds (CancelBench)
 * Bench webhook                             push-to-queued latency and matching cost with 10,000 rules (WebhookBench)
 * Bench all [rounds] [cache|no-cache]       logs, cancel, webhook, then build
 * </pre>
 *
 * The build figure: buildfarm (submit → index published) against `podman build --platform …
 * --manifest` + `podman manifest push` of the same Dockerfile and context to the same registry,
 * alternating rounds in one run so both see the same machine.
 */
public final class Bench {

    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");

    public static void main(String[] args) throws Exception {
        String mode = "build";
        List<String> rest = new ArrayList<>(List.of(args));
        // Backward compatible: "Bench 3 no-cache" is the build comparison.
        if (!rest.isEmpty() && !rest.get(0).matches("\\d+")) {
            mode = rest.remove(0);
        }
        List<Figure> figures = new ArrayList<>();
        boolean ok = true;
        try (Farm farm = new Farm()) {
            switch (mode) {
                case "build" -> ok = measure("four-platform build", figures, () -> build(farm, rest));
                case "logs" -> ok = measure("logs", figures, () -> new LogBench(farm).run());
                case "cancel" -> ok = measure("cancel", figures, () -> new CancelBench(farm).run());
                case "webhook" -> ok = measure("webhook", figures, () -> new WebhookBench(farm).run());
                case "all" -> {
                    ok &= measure("logs", figures, () -> new LogBench(farm).run());
                    ok &= measure("cancel", figures, () -> new CancelBench(farm).run());
                    ok &= measure("webhook", figures, () -> new WebhookBench(farm).run());
                    ok &= measure("four-platform build", figures, () -> build(farm, rest));
                }
                default -> {
                    System.err.println("usage: Bench [build] [rounds] [cache|no-cache] | logs | cancel | webhook | all [rounds] [cache|no-cache]");
                    System.exit(2);
                }
            }
        }
        Figure.printTable(System.out, figures);
        // gRPC and Kafka threads must not keep exec:java waiting.
        System.exit(ok ? 0 : 1);
    }

    /** Runs one benchmark; a failure becomes a row saying so, and the others still run. */
    private static boolean measure(String name, List<Figure> figures, Callable<List<Figure>> benchmark) {
        try {
            figures.addAll(benchmark.call());
            return true;
        } catch (Exception e) {
            System.err.println(name + " failed:");
            e.printStackTrace();
            figures.add(new Figure(name, "failed: " + e.getMessage(), "", false, ""));
            return false;
        }
    }

    private static List<Figure> build(Farm farm, List<String> args) throws Exception {
        int rounds = args.size() > 0 ? Integer.parseInt(args.get(0)) : 3;
        boolean noCache = args.size() < 2 || !args.get(1).equals("cache");
        String registry = farm.registry;
        String gitUrl = Farm.env("BENCH_GIT_URL", "git://127.0.0.1:9418/examples.git");
        Path context = Path.of(Farm.env("BENCH_CONTEXT", "examples/hello")).toAbsolutePath();

        BuildServiceGrpc.BuildServiceBlockingStub builds = farm.builds();
        List<Double> farmTimes = new ArrayList<>();
        List<Double> podman = new ArrayList<>();
        String mode = noCache ? "no cache" : "warm cache";
        System.out.printf("four-platform build of %s (%s), %d rounds%n", context, mode, rounds);
        for (int round = 1; round <= rounds; round++) {
            farmTimes.add(farmBuild(builds, gitUrl, registry, noCache));
            podman.add(podmanBuild(context, registry, noCache));
            System.out.printf(Locale.ROOT, "round %d: buildfarm %.2f s, podman %.2f s%n",
                    round, farmTimes.get(round - 1), podman.get(round - 1));
        }
        double f = median(farmTimes);
        double p = median(podman);
        return List.of(Figure.informational("four-platform build + publish",
                String.format(Locale.ROOT, "buildfarm %.2f s, podman %.2f s, ratio %.2f", f, p, f / p),
                String.format(Locale.ROOT, "%s, median of %d rounds, %s on %s, %s", mode, rounds, context.getFileName(),
                        String.join(",", PLATFORMS), "one agent serving all four platforms (arm under QEMU)")));
    }

    private static double farmBuild(BuildServiceGrpc.BuildServiceBlockingStub builds, String gitUrl, String registry,
                                    boolean noCache) throws InterruptedException {
        long start = System.nanoTime();
        Build build = builds.submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("bench-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(gitUrl).setRef("main"))
                        .setDockerfileDirectory("hello")
                        .addAllPlatforms(PLATFORMS)
                        .setRepository(registry + "/bench/buildfarm-hello")
                        .addTags("latest")
                        .setNoCache(noCache))
                .build());
        while (true) {
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

    private static double podmanBuild(Path context, String registry, boolean noCache) throws IOException, InterruptedException {
        String manifest = "localhost/bench-hello:" + UUID.randomUUID().toString().substring(0, 8);
        long start = System.nanoTime();
        List<String> build = new ArrayList<>(List.of("podman", "build", "--quiet", "--tls-verify=false",
                "--platform", String.join(",", PLATFORMS), "--manifest", manifest));
        if (noCache) {
            build.add("--no-cache");
        }
        build.add(context.toString());
        run(build);
        run(List.of("podman", "manifest", "push", "--all", "--quiet", "--tls-verify=false", manifest,
                "docker://" + registry + "/bench/podman-hello:latest"));
        double seconds = (System.nanoTime() - start) / 1e9;
        run(List.of("podman", "manifest", "rm", manifest));
        return seconds;
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Path log = Files.createTempFile("bench", ".log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!process.waitFor(30, TimeUnit.MINUTES) || process.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed:\n" + Files.readString(log, StandardCharsets.UTF_8));
        }
        Files.delete(log);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private Bench() {
    }
}
