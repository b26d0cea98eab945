package dev.buildfarm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The processes of the farm and its stack, found by the pid files dev/services.sh and dev/stack.sh
 * write under $BUILDFARM_STACK_DIR, and what /proc says of them: resident memory and CPU time.
 */
final class Processes {

    /** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
    static final double TICKS_PER_SECOND = 100;

    private final Path stackDir;

    Processes(Path stackDir) {
        this.stackDir = stackDir;
    }

    Path stackDir() {
        return stackDir;
    }

    static Processes fromEnvironment() {
        return new Processes(Path.of(Farm.env("STACK_DIR", Farm.env("BUILDFARM_STACK_DIR", ".stack"))).toAbsolutePath());
    }

    /** controller, agent or manifest-assembler, while it runs. */
    Optional<Long> service(String name) {
        return pidFile(stackDir.resolve("services").resolve(name + ".pid"));
    }

    /** The processes whose CPU the suite accounts for, by name: the services, PostgreSQL, Kafka and this JVM. */
    Map<String, Long> accounted() {
        Map<String, Long> pids = new LinkedHashMap<>();
        for (String s : List.of("controller", "agent", "manifest-assembler")) {
            service(s).ifPresent(pid -> pids.put(s, pid));
        }
        pidFile(stackDir.resolve("postgres/data/postmaster.pid")).ifPresent(pid -> pids.put("postgresql", pid));
        pidFile(stackDir.resolve("kafka/kafka.pid")).ifPresent(pid -> pids.put("kafka", pid));
        pids.put("bench client", ProcessHandle.current().pid());
        return pids;
    }

    /** The checkout a running service was started from (the directory above <service>/target/quarkus-app). */
    Optional<String> checkoutOf(String service) {
        return service(service).flatMap(pid -> {
            String cmd = Machine.read("/proc/" + pid + "/cmdline").replace('\0', ' ');
            int at = cmd.indexOf("/" + service + "/target/quarkus-app/quarkus-run.jar");
            return at < 0 ? Optional.empty() : Optional.of(cmd.substring(cmd.lastIndexOf(' ', at) + 1, at));
        });
    }

    static Optional<Long> pidFile(Path file) {
        try {
            String first = Files.readString(file).lines().findFirst().orElse("").trim();
            long pid = Long.parseLong(first);
            return Files.exists(Path.of("/proc/" + pid)) ? Optional.of(pid) : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** VmRSS in MiB, or -1 once the process is gone. */
    static double rssMiB(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone
        }
        return -1;
    }

    /** CPU ticks (user + system) of a process, its reaped children and its live descendants (PostgreSQL backends). */
    static long cpuTicks(long pid) {
        long ticks = ticksOf(pid, true);
        List<Long> descendants = new ArrayList<>();
        ProcessHandle.of(pid).ifPresent(p -> p.descendants().forEach(d -> descendants.add(d.pid())));
        for (long child : descendants) {
            ticks += ticksOf(child, false);
        }
        return ticks;
    }

    /** Machine-wide CPU ticks: [busy, total] from the first line of /proc/stat. */
    static long[] machineTicks() {
        String cpu = Machine.read("/proc/stat").lines().findFirst().orElse("cpu 0");
        String[] f = cpu.trim().split("\\s+");
        long total = 0;
        long idle = 0;
        for (int i = 1; i < f.length; i++) {
            long v = Long.parseLong(f[i]);
            total += v;
            if (i == 4 || i == 5) { // idle, iowait
                idle += v;
            }
        }
        return new long[] {total - idle, total};
    }

    private static long ticksOf(long pid, boolean withReapedChildren) {
        String stat = Machine.read("/proc/" + pid + "/stat");
        int end = stat.lastIndexOf(')');
        if (end < 0) {
            return 0;
        }
        // Fields after "(comm)": state is field 3, utime 14, stime 15, cutime 16, cstime 17.
        String[] f = stat.substring(end + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
        if (withReapedChildren) {
            ticks += Long.parseLong(f[13]) + Long.parseLong(f[14]);
        }
        return ticks;
    }

    /** CPU used by each accounted process between two snapshots, in cores (1.0 = one core busy all the time). */
    static final class CpuWindow {
        private final Map<String, Long> pids;
        private final Map<String, Long> before = new LinkedHashMap<>();
        private final long[] machineBefore;
        private final long startNanos = System.nanoTime();

        CpuWindow(Map<String, Long> pids) {
            this.pids = pids;
            pids.forEach((name, pid) -> before.put(name, cpuTicks(pid)));
            machineBefore = machineTicks();
        }

        /** "cores busy over 15.2 s: controller 1.10, postgresql 0.52, …, the whole machine 1.95 of 2 (…)". */
        String summary() {
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "cores busy over %.1f s: ", seconds));
            pids.forEach((name, pid) -> out.append(String.format(Locale.ROOT, "%s %.2f, ", name,
                    (cpuTicks(pid) - before.get(name)) / TICKS_PER_SECOND / seconds)));
            long[] machine = machineTicks();
            int cores = Runtime.getRuntime().availableProcessors();
            double busy = (double) (machine[0] - machineBefore[0]) / Math.max(1, machine[1] - machineBefore[1]) * cores;
            out.append(String.format(Locale.ROOT, "the whole machine %.2f of %d (every process, other users' included)", busy, cores));
            return out.toString();
        }
    }
}
