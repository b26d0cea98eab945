package dev.buildfarm.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The benchmark suite, on the running farm and the real stack (dev/bench.sh starts what it needs).
 * One run prints one table, every figure with its target, whether it was met and its conditions,
 * and writes it to bench/results as Markdown and JSON.
 *
 * <pre>
 * Bench [quick|full] [--profile]   the suite: T1–T9 of issue 9, plus #4 cancel and #3 webhook figures
 * Bench submit|lifecycle|logs|cancel|webhook|build|memory|fairness [--profile]   one part, quick sizes
 * </pre>
 *
 * Order: on an idle farm first (T3/T4/T6, T5, cancel, webhook), then the submit load with the agent
 * stopped (T1, T2; T9 under load), then the podman comparisons (T7, T8), the longest and noisiest.
 * --profile records the controller with JFR during T1 and T2 and summarises where the CPU went.
 */
public final class Bench {

    /** Sizes of one mode. */
    record Sizes(int lifecycleBuilds, int cancelRounds, int webhookPushes, int webhookPauseMillis,
                 SubmitBench.Settings submit, int noCacheRounds, int cacheRounds) {
    }

    static Sizes quick(boolean profile) {
        return new Sizes(8, 4, 20, 0,
                new SubmitBench.Settings(Duration.ofSeconds(3), Duration.ofSeconds(15), 32, 500, Duration.ofSeconds(10), profile), 1, 1);
    }

    static Sizes full(boolean profile) {
        // Sized to end within a 15-minute hold of the shared farm's lock on a busy two-core machine.
        return new Sizes(30, 10, 50, 2000,
                new SubmitBench.Settings(Duration.ofSeconds(10), Duration.ofSeconds(60), 32, 500, Duration.ofSeconds(60), profile), 3, 3);
    }

    public static void main(String[] args) throws Exception {
        List<String> rest = new ArrayList<>(List.of(args));
        boolean profile = rest.remove("--profile");
        String mode = rest.isEmpty() ? "quick" : rest.get(0);
        if (mode.equals("faults")) {
            faults();
            return;
        }
        Sizes sizes = mode.equals("full") ? full(profile) : quick(profile);
        List<String> parts = switch (mode) {
            case "quick", "full" -> List.of("lifecycle", "logs", "cancel", "webhook", "submit", "build", "memory");
            case "submit", "lifecycle", "logs", "cancel", "webhook", "build", "memory", "fairness", "auth" -> List.of(mode);
            default -> {
                System.err.println("usage: Bench [quick|full|submit|lifecycle|logs|cancel|webhook|build|memory|fairness|auth] [--profile]");
                System.exit(2);
                yield List.of();
            }
        };
        Instant started = Instant.now();
        long startNanos = System.nanoTime();
        Machine machine = Machine.current();
        String commit = Machine.gitCommit().orElse("unknown");
        List<Figure> figures = new ArrayList<>();
        List<String> diagnosis = new ArrayList<>();
        List<String> steps = new ArrayList<>();
        Processes processes = Processes.fromEnvironment();
        String services = servicesMeasured(processes);
        System.out.println("services measured: " + services);
        boolean ok = true;
        try (Farm farm = new Farm(); RssSampler rss = new RssSampler(processes)) {
            double controllerIdle = rss.now("controller");
            double agentIdle = rss.now("agent");
            for (String part : parts) {
                long partStart = System.nanoTime();
                switch (part) {
                    case "lifecycle" -> {
                        rss.phase("builds");
                        ok &= measure("T3/T4/T6", "submit → claimed, → first log line, digest → index", figures,
                                () -> new LifecycleBench(farm, sizes.lifecycleBuilds(), diagnosis).run());
                    }
                    case "logs" -> {
                        rss.phase("builds");
                        ok &= measure("T5", "log line latency and lines/s", figures, () -> new LogBench(farm, diagnosis, processes, profile).run());
                    }
                    case "cancel" -> {
                        rss.phase("builds");
                        ok &= measure("#4", "cancel-to-stopped", figures, () -> new CancelBench(farm, sizes.cancelRounds()).run());
                    }
                    case "webhook" -> {
                        rss.phase("");
                        ok &= measure("#3", "webhook push-to-queued", figures,
                                () -> new WebhookBench(farm, sizes.webhookPushes(), sizes.webhookPauseMillis(), diagnosis).run());
                    }
                    case "submit" -> {
                        rss.phase("");
                        ok &= measure("T1/T2", "SubmitBuild throughput and latency", figures,
                                () -> new SubmitBench(farm, processes, rss, sizes.submit(), diagnosis).run());
                    }
                    case "build" -> {
                        rss.phase("builds");
                        ok &= measure("T7/T8", "four-platform build vs podman", figures,
                                () -> new BuildBench(farm, sizes.noCacheRounds(), sizes.cacheRounds()).run());
                    }
                    case "fairness" -> {
                        rss.phase("builds");
                        ok &= measure("#5", "fair share", figures, () -> new FairnessBench(farm, 30, 100).run());
                    }
                    case "auth" -> {
                        rss.phase("");
                        ok &= measure("auth", "added latency of authentication", figures, () -> new AuthBench(farm,
                                Double.parseDouble(Farm.env("BENCH_AUTH_RATE", "20")), Farm.envInt("BENCH_AUTH_ROUNDS", 15),
                                Double.parseDouble(Farm.env("BENCH_AUTH_ROUND_SECONDS", "2"))).run());
                    }
                    case "memory" -> {
                        rss.phase("");
                        figures.addAll(memory(rss, controllerIdle, agentIdle, processes, sizes.submit().profile()));
                    }
                    default -> throw new IllegalStateException(part);
                }
                rss.phase("");
                steps.add(String.format(Locale.ROOT, "%s %s", part, Report.minutes(Duration.ofNanos(System.nanoTime() - partStart))));
            }
        }
        diagnosis.add(0, "Parts took: " + String.join(", ", steps) + ".");
        figures.sort(Report.BY_ID);
        Report report = new Report(mode, started, Duration.ofNanos(System.nanoTime() - startNanos), commit, services, machine, figures, diagnosis);
        // The auth part keeps results of its own, so latest.md stays the last run of the suite.
        Path results = Path.of(Farm.env("BENCH_RESULTS", "bench/results"));
        Path written = report.write(mode.equals("auth") ? results.resolve("auth") : results);
        System.out.println();
        System.out.print(report.markdown());
        System.out.println();
        System.out.println("written: " + written + " (and .json; latest.md, latest.json beside it)");
        // gRPC and Kafka threads must not keep the JVM waiting.
        System.exit(ok ? 0 : 1);
    }

    /**
     * The fault campaign alone, on the fault farm (dev/bench.sh faults starts it): BENCH_FAULT_AGENT_KILLS
     * (20) agent kills and BENCH_FAULT_CONTROLLER_KILLS (5) controller kills under a stream of builds.
     */
    private static void faults() throws Exception {
        Instant started = Instant.now();
        long startNanos = System.nanoTime();
        Machine machine = Machine.current();
        List<Figure> figures = new ArrayList<>();
        boolean ok;
        try (Farm farm = new Farm()) {
            ok = measure("F", "fault campaign", figures, () -> new FaultBench(farm,
                    Integer.parseInt(Farm.env("BENCH_FAULT_AGENT_KILLS", "20")),
                    Integer.parseInt(Farm.env("BENCH_FAULT_CONTROLLER_KILLS", "5"))).run());
        }
        Report report = new Report("faults", started, Duration.ofNanos(System.nanoTime() - startNanos),
                Machine.gitCommit().orElse("unknown"), "the fault farm (dev/fault-farm.sh), jars of " + System.getProperty("user.dir"),
                machine, figures, List.of());
        Path written = report.write(Path.of(Farm.env("BENCH_RESULTS", "bench/results"), "faults"));
        System.out.println();
        System.out.print(report.markdown());
        System.out.println();
        System.out.println("written: " + written + " (and .json; latest.md, latest.json beside it)");
        System.exit(ok && figures.stream().noneMatch(f -> Boolean.FALSE.equals(f.met())) ? 0 : 1);
    }

    /** Runs one part; a failure becomes a row saying so, and the other parts still run. */
    private static boolean measure(String id, String name, List<Figure> figures, Part part) {
        try {
            for (Figure f : part.run()) {
                figures.add(f.id().isEmpty() ? f.withId(id) : f);
            }
            return true;
        } catch (Exception e) {
            System.err.println(name + " failed:");
            e.printStackTrace();
            figures.add(Figure.failed(id, name, String.valueOf(e.getMessage())));
            return false;
        }
    }

    private interface Part {
        List<Figure> run() throws Exception;
    }

    /** T9 from the samples the other parts left, and each service's start-up as Quarkus logged it. */
    private static List<Figure> memory(RssSampler rss, double controllerIdle, double agentIdle, Processes processes, boolean profiled) {
        double controllerLoad = rss.peak("T1 load", "controller");
        double agentBuilds = rss.peak("builds", "agent");
        double controllerWorst = Math.max(controllerIdle, controllerLoad);
        double agentWorst = Math.max(agentIdle, agentBuilds);
        Figure t9 = new Figure("T9", "controller / agent RSS, idle and under load",
                String.format(Locale.ROOT, "controller %s idle, %s peak under T1/T2 load; agent %s idle, %s peak while building "
                                + "(T3–T8 builds)", mib(controllerIdle), mib(controllerLoad), mib(agentIdle), mib(agentBuilds)),
                "≤ 512 MiB / ≤ 256 MiB", controllerWorst > 0 && agentWorst > 0 && controllerWorst <= 512 && agentWorst <= 256,
                "VmRSS of the pids in $BUILDFARM_STACK_DIR/services, sampled every 200 ms; idle = before the first part; "
                        + "dev/services.sh heaps: controller -Xmx384m, agent -Xmx128m with the serial collector; the agent is stopped under T1, "
                        + "so its loaded figure is from the builds" + (profiled ? "; the controller had a JFR recording on during T1 (--profile)" : ""),
                Map.of()).withValues(Figure.values("controller_idle_mib", controllerIdle, "controller_t1_peak_mib", controllerLoad,
                "agent_idle_mib", agentIdle, "agent_builds_peak_mib", agentBuilds));
        List<String> startups = new ArrayList<>();
        for (String service : List.of("controller", "agent", "manifest-assembler")) {
            startups.add(service + " " + startedIn(processes, service));
        }
        return List.of(t9, Figure.informational("service start-up (as Quarkus logs it)", String.join(", ", startups),
                "the last \"started in\" of each service's log; the agent then probes its platforms").withId("#7"));
    }

    /** Which checkout's jars the figures are of, and which database: another checkout's farm would give other figures. */
    private static String servicesMeasured(Processes processes) {
        List<String> from = new ArrayList<>();
        for (String service : List.of("controller", "agent", "manifest-assembler")) {
            from.add(processes.checkoutOf(service).orElse("?"));
        }
        String database = Farm.env("PG_URL", "jdbc:postgresql://127.0.0.1:5432/buildfarm");
        String jars = from.stream().distinct().count() == 1 ? "jars of " + from.get(0) : "jars of " + String.join(", ", from);
        return jars + ", database " + database.substring(database.lastIndexOf('/') + 1);
    }

    private static String mib(double value) {
        return value < 0 ? "n/a" : String.format(Locale.ROOT, "%.0f MiB", value);
    }

    private static String startedIn(Processes processes, String service) {
        Path log = processes.stackDir().resolve("logs").resolve(service + ".log");
        try {
            Matcher m = Pattern.compile("started in ([0-9.]+s)").matcher(Files.readString(log));
            String last = "n/a";
            while (m.find()) {
                last = m.group(1);
            }
            return last;
        } catch (Exception e) {
            return "n/a";
        }
    }

    private Bench() {
    }
}
