package dev.buildfarm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessesTest {

    @Test
    void aPidFileNamesItsProcessByItsFirstLine(@TempDir Path dir) throws Exception {
        // PostgreSQL's postmaster.pid: the pid, then the data directory and more.
        long self = ProcessHandle.current().pid();
        Path file = Files.writeString(dir.resolve("postmaster.pid"), self + "\n/var/lib/postgresql/data\n1700000000\n");
        assertThat(Processes.pidFile(file)).contains(self);
    }

    @Test
    void aMissingOrStalePidFileNamesNoProcess(@TempDir Path dir) throws Exception {
        assertThat(Processes.pidFile(dir.resolve("none.pid"))).isEmpty();
        assertThat(Processes.pidFile(Files.writeString(dir.resolve("garbage.pid"), "not a pid\n"))).isEmpty();
        // Beyond the kernel's pid_max: no such process.
        assertThat(Processes.pidFile(Files.writeString(dir.resolve("stale.pid"), "99999999\n"))).isEmpty();
    }

    @Test
    void theCheckoutOfAServiceIsTheDirectoryAboveItsJar(@TempDir Path dir) throws Exception {
        Path services = Files.createDirectories(dir.resolve("services"));
        Files.writeString(services.resolve("controller.pid"), ProcessHandle.current().pid() + "\n");
        // This JVM is no service: its command line names no quarkus-run.jar.
        assertThat(new Processes(dir).checkoutOf("controller")).isEmpty();
        assertThat(new Processes(dir).service("controller")).contains(ProcessHandle.current().pid());
        assertThat(Processes.rssMiB(ProcessHandle.current().pid())).isPositive();
    }
}
