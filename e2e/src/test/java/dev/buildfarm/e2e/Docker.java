package dev.buildfarm.e2e;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The docker CLI, as a user would run it. */
final class Docker {

    private Docker() {
    }

    static String run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!process.waitFor(5, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new IllegalStateException(command + " timed out");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new IllegalStateException(command + " exited " + process.exitValue() + ": " + output);
        }
        return output.trim();
    }

    /** Pulls the platform's variant of a tag and runs it, returning what it prints. */
    static String pullAndRun(String platform, String image) throws IOException, InterruptedException {
        run("pull", "-q", "--platform", platform, image);
        return run("run", "--rm", "--platform", platform, image);
    }
}
