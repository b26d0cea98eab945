package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The fault farm's parts (dev/fault-farm.sh), signalled by the pids it recorded, so a fault reaches
 * exactly the process it names: controller, manifest-assembler, agent-1, agent-2, kafka, registry.
 */
final class FaultFarm {

    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();
    private static final String SCRIPT = System.getenv().getOrDefault("FAULT_FARM", REPO.resolve("dev/fault-farm.sh").toString());

    private FaultFarm() {
    }

    /** kill -SIGNAL the part: KILL, STOP, CONT, TERM. */
    static void signal(String part, String signal) {
        run("signal", part, signal);
    }

    /** Starts the part again and waits until it is ready. */
    static void start(String part) {
        run("start", part);
    }

    /** Stops the part gracefully (an agent drains). */
    static void stop(String part) {
        run("stop", part);
    }

    /** The fault farm's part that runs an agent of this name ("fault-agent-1" → "agent-1"). */
    static String partOfAgent(String agentName) {
        String name = agentName.startsWith("agents/") ? agentName.substring("agents/".length()) : agentName;
        assertThat(name).as("agent of the fault farm").startsWith("fault-agent-");
        return name.substring("fault-".length());
    }

    private static void run(String... args) {
        try {
            String[] command = new String[args.length + 1];
            command[0] = SCRIPT;
            System.arraycopy(args, 0, command, 1, args.length);
            Process process = new ProcessBuilder(command).directory(REPO.toFile()).inheritIO().start();
            assertThat(process.waitFor(5, TimeUnit.MINUTES)).as(String.join(" ", command)).isTrue();
            assertThat(process.exitValue()).as(String.join(" ", command)).isZero();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
