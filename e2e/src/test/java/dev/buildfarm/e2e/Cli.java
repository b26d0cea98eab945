package dev.buildfarm.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The installed `buildfarm` executable (cli/target/buildfarm), run as a user runs it. */
final class Cli {

    static final Path EXECUTABLE = Path.of("..", "cli", "target", "buildfarm").toAbsolutePath().normalize();

    record Result(int exitCode, String out, String err) {
    }

    private Cli() {
    }

    static ProcessBuilder command(Map<String, String> env, String... args) {
        if (!Files.isExecutable(EXECUTABLE)) {
            throw new IllegalStateException(EXECUTABLE + " is missing: ./mvnw -pl cli install");
        }
        List<String> command = new ArrayList<>(List.of(EXECUTABLE.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("BUILDFARM_ENDPOINT", Farm.ENDPOINT);
        builder.environment().put("BUILDFARM_TOKEN", Farm.TOKEN);
        builder.environment().put("BUILDFARM_TLS_CA", Farm.TLS_CA);
        builder.environment().put("BUILDFARM_TLS_CERT", Farm.TLS_CERT);
        builder.environment().put("BUILDFARM_TLS_KEY", Farm.TLS_KEY);
        // No config file of the machine's user leaks in.
        builder.environment().put("BUILDFARM_CONFIG", "/nonexistent/buildfarm-config");
        builder.environment().putAll(env);
        return builder;
    }

    static Result run(String... args) {
        return run(Map.of(), args);
    }

    static Result run(Map<String, String> env, String... args) {
        try {
            Path out = Files.createTempFile("cli-out", ".txt");
            Path err = Files.createTempFile("cli-err", ".txt");
            Process process = command(env, args).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!process.waitFor(15, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new IllegalStateException(List.of(args) + " timed out");
            }
            Result result = new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return result;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
