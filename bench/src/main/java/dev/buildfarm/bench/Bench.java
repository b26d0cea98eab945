package dev.buildfarm.bench;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Four-platform build wall time: buildfarm (submit → index published) against
 * `podman build --platform … --manifest` + `podman manifest push` of the same Dockerfile and context
 * to the same registry, alternating rounds in one run so both see the same machine.
 *
 * Usage: Bench [rounds] [cache|no-cache]     (dev/bench.sh runs it with the farm up)
 */
public final class Bench {

    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        boolean noCache = args.length < 2 || !args[1].equals("cache");
        String endpoint = env("BUILDFARM_ENDPOINT", "127.0.0.1:8080");
        String registry = env("REGISTRY", "127.0.0.1:5000");
        String gitUrl = env("BENCH_GIT_URL", "git://127.0.0.1:9418/examples.git");
        Path context = Path.of(env("BENCH_CONTEXT", "examples/hello")).toAbsolutePath();

        ManagedChannel channel = ManagedChannelBuilder.forTarget(endpoint).usePlaintext().build();
        BuildServiceGrpc.BuildServiceBlockingStub builds = BuildServiceGrpc.newBlockingStub(channel);
        List<Double> farm = new ArrayList<>();
        List<Double> podman = new ArrayList<>();
        String mode = noCache ? "no cache" : "warm cache";
        System.out.printf("four-platform build of %s (%s), %d rounds%n", context, mode, rounds);
        for (int round = 1; round <= rounds; round++) {
            farm.add(farmBuild(builds, gitUrl, registry, noCache));
            podman.add(podmanBuild(context, registry, noCache));
            System.out.printf(Locale.ROOT, "round %d: buildfarm %.2f s, podman %.2f s%n",
                    round, farm.get(round - 1), podman.get(round - 1));
        }
        channel.shutdownNow();
        double f = median(farm);
        double p = median(podman);
        System.out.println();
        System.out.println("| figure | buildfarm | podman | ratio |");
        System.out.println("|---|---|---|---|");
        System.out.printf(Locale.ROOT, "| four-platform build + publish, %s, median of %d | %.2f s | %.2f s | %.2f |%n",
                mode, rounds, f, p, f / p);
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

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    private Bench() {
    }
}
