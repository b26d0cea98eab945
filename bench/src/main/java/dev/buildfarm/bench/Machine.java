package dev.buildfarm.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The machine a run measured on, as the table's readers need it to compare runs. */
record Machine(int cores, String cpu, long memoryMiB, String kernel, String javaVersion, String loadAtStart) {

    static Machine current() {
        String cpu = read("/proc/cpuinfo").lines().filter(l -> l.startsWith("model name"))
                .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse("unknown cpu");
        long memKiB = read("/proc/meminfo").lines().filter(l -> l.startsWith("MemTotal:"))
                .map(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(0L);
        String load = read("/proc/loadavg").trim();
        load = load.isEmpty() ? "?" : String.join(" ", Arrays.copyOf(load.split(" "), 3));
        return new Machine(Runtime.getRuntime().availableProcessors(), cpu, memKiB / 1024,
                "Linux " + read("/proc/sys/kernel/osrelease").trim(), System.getProperty("java.version"), load);
    }

    String describe() {
        return String.format(Locale.ROOT, "%d cores (nproc; %s), %.1f GiB memory, %s, Java %s, load average %s at start",
                cores, cpu, memoryMiB / 1024.0, kernel, javaVersion, loadAtStart);
    }

    static String read(String path) {
        try {
            return Files.readString(Path.of(path));
        } catch (IOException e) {
            return "";
        }
    }

    /** The commit measured, "-dirty" when tracked files differ from it. */
    static Optional<String> gitCommit() {
        try {
            return Optional.of(Farm.run(List.of("git", "describe", "--always", "--dirty"), Duration.ofSeconds(10)));
        } catch (Exception e) {
            return Optional.empty();
        }
    }
}
