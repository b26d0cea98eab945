package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.common.Platform;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The `buildfarm` executable against the running farm, as a user in a terminal or a CI job uses it. */
class CliTest {

    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir Path temp;

    /** examples/hello plus a secret that .dockerignore keeps out of the context. */
    private Path helloDirectory() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("hello"));
        try (var files = Files.list(Farm.EXAMPLES.resolve("hello"))) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        Files.writeString(dir.resolve("secret.env"), "TOKEN=do-not-ship\n");
        Files.createDirectories(dir.resolve("node_modules/lib"));
        Files.writeString(dir.resolve("node_modules/lib/big.js"), "x");
        Files.writeString(dir.resolve(".dockerignore"), "# local only\n*.env\nnode_modules\n");
        return dir;
    }

    @Test
    void buildsALocalDirectoryForFourPlatformsFollowingItAndPublishesOneIndex() throws Exception {
        Path dir = helloDirectory();
        String path = "e2e/cli-hello-" + UUID.randomUUID().toString().substring(0, 8);
        String image = Farm.REGISTRY + "/" + path;

        Cli.Result run = Cli.run("build", dir.toString(), "--platform", String.join(",", PLATFORMS),
                "-t", image + ":v1", "--follow", "--progress", "plain");

        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.err()).isEmpty();
        String out = run.out();
        assertThat(out).containsPattern("context sha256:[0-9a-f]{64}: \\d+ entries");
        Platform host = Platform.fromMachine(System.getProperty("os.arch")).orElseThrow();
        for (String platform : PLATFORMS) {
            String mode = Platform.parse(platform).equals(host) ? "native" : "emulated";
            // A status line per change, with the mode, and the logs prefixed by the platform.
            assertThat(out).containsPattern("(?m)^" + platform + " +queued ");
            assertThat(out).containsPattern("(?m)^" + platform + " +running +\\d+s +" + mode + " +agent=");
            assertThat(out).containsPattern("(?m)^" + platform + " +pushed +\\d+(m\\d+)?s +" + mode);
            assertThat(out).containsPattern("(?m)^" + String.format("%-12s", platform).replace("/", "\\/") + " \\| Step \\d+/\\d+ : ");
        }
        assertThat(out).containsPattern("(?m)^builds/\\S+  SUCCEEDED$").containsPattern("index digest: sha256:[0-9a-f]{64}");

        Registry.Document index = Registry.manifest(path, "v1");
        Set<String> indexed = new HashSet<>();
        for (JsonNode child : index.json().path("manifests")) {
            JsonNode p = child.path("platform");
            indexed.add(new Platform(p.path("os").asText(), p.path("architecture").asText(), p.path("variant").asText()).toString());
        }
        assertThat(indexed).containsExactlyInAnyOrderElementsOf(PLATFORMS);
        for (String platform : PLATFORMS) {
            assertThat(Docker.pullAndRun(platform, image + ":v1")).as(platform).startsWith(Farm.HELLO_OUTPUT.get(platform));
        }
        // .dockerignore kept the secret and node_modules out of the context, so out of the image.
        String files = Docker.run("run", "--rm", "--platform", "linux/amd64", image + ":v1", "ls", "-a", "/app");
        assertThat(files).contains("hello").doesNotContain("secret.env").doesNotContain("node_modules");

        // The same directory again, for a script: stored once, one JSON document on stdout.
        Cli.Result again = Cli.run("--output", "json", "build", dir.toString(), "--platform", "linux/amd64",
                "-t", image + ":again", "--wait");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.err()).contains("already on the farm");
        JsonNode build = JSON.readTree(again.out());
        assertThat(build.path("state").asText()).isEqualTo("SUCCEEDED");
        assertThat(build.path("spec").path("contextDigest").asText()).startsWith("sha256:");
        assertThat(build.path("platformBuilds").get(0).path("platform").asText()).isEqualTo("linux/amd64");

        Cli.Result status = Cli.run("--output", "json", "status", build.path("name").asText());
        assertThat(status.exitCode()).isZero();
        assertThat(JSON.readTree(status.out()).path("indexDigest").asText()).isEqualTo(build.path("indexDigest").asText());
        Cli.Result logs = Cli.run("logs", build.path("name").asText(), "--platform", "linux/amd64");
        assertThat(logs.exitCode()).isZero();
        assertThat(logs.out().lines().toList()).isNotEmpty().allMatch(l -> l.startsWith("linux/amd64  | "));
    }

    @Test
    void cancelStopsAFollowedBuildWhichThenExitsOne() throws Exception {
        Path dir = Files.createDirectories(temp.resolve("slow"));
        Files.writeString(dir.resolve("Dockerfile"), "FROM " + Farm.REGISTRY + "/library/busybox:latest\n"
                + "RUN echo started && sleep 300\n");
        String image = Farm.REGISTRY + "/e2e/cli-cancel-" + UUID.randomUUID().toString().substring(0, 8);
        Process follow = Cli.command(Map.of(), "build", dir.toString(), "--platform", "linux/arm64",
                "-t", image + ":never", "--follow", "--progress", "plain").redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(follow.getInputStream(), StandardCharsets.UTF_8))) {
                r.lines().forEach(lines::add);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        try {
            Awaitility.await("the RUN step to start").atMost(Duration.ofMinutes(5))
                    .until(() -> lines.stream().anyMatch(l -> l.startsWith("linux/arm64  | started")));
            String name = lines.stream().filter(l -> l.matches("builds/\\S+")).findFirst().orElseThrow();

            Cli.Result cancel = Cli.run("cancel", name);
            assertThat(cancel.exitCode()).as(cancel.err()).isZero();
            assertThat(cancel.out()).startsWith(name + "  CANCELLED");

            assertThat(follow.waitFor(2, TimeUnit.MINUTES)).isTrue();
            reader.get(10, TimeUnit.SECONDS);
            assertThat(follow.exitValue()).isEqualTo(1);
            assertThat(lines).anyMatch(l -> l.startsWith(name + "  CANCELLED"));
            assertThat(lines).anyMatch(l -> l.matches("linux/arm64 +cancelled .*"));
            assertThat(Registry.tags(image.substring(Farm.REGISTRY.length() + 1)).path("tags").size()).isZero();
        } finally {
            follow.destroyForcibly();
        }
    }

    @Test
    void exitCodesTellSuccessFailureUsageRefusalAndUnreachable() throws Exception {
        Path failing = Files.createDirectories(temp.resolve("failing"));
        Files.writeString(failing.resolve("Dockerfile"), "FROM " + Farm.REGISTRY + "/library/busybox:latest\nRUN exit 3\n");
        String image = Farm.REGISTRY + "/e2e/cli-codes-" + UUID.randomUUID().toString().substring(0, 8);

        Cli.Result failed = Cli.run("build", failing.toString(), "--platform", "linux/amd64", "-t", image + ":x", "--wait");
        assertThat(failed.exitCode()).isEqualTo(1);
        assertThat(failed.out()).contains("FAILED").doesNotContain("index digest");

        Cli.Result unknownFlag = Cli.run("build", failing.toString(), "--platform", "linux/amd64", "-t", image + ":x", "--frobnicate");
        assertThat(unknownFlag.exitCode()).isEqualTo(2);
        assertThat(unknownFlag.err().lines().findFirst().orElseThrow()).isEqualTo("error: Unknown option: '--frobnicate'");
        Cli.Result noDir = Cli.run("build", temp.resolve("nope").toString(), "--platform", "linux/amd64", "-t", image + ":x");
        assertThat(noDir.exitCode()).isEqualTo(2);
        assertThat(noDir.err()).startsWith("error: DIR '").contains("is not a directory");

        Cli.Result refused = Cli.run("build", failing.toString(), "--platform", "windows/amd64", "-t", image + ":x");
        assertThat(refused.exitCode()).isEqualTo(3);
        assertThat(refused.err().lines().filter(l -> l.startsWith("error:")).toList())
                .singleElement().asString().startsWith("error: INVALID_ARGUMENT: spec.platforms[0]");

        Path escaping = Files.createDirectories(temp.resolve("escaping"));
        Files.writeString(escaping.resolve("Dockerfile"), "FROM scratch\n");
        Files.createSymbolicLink(escaping.resolve("passwd"), Path.of("/etc/passwd"));
        Cli.Result linkOut = Cli.run("build", escaping.toString(), "--platform", "linux/amd64", "-t", image + ":x");
        assertThat(linkOut.exitCode()).isEqualTo(3);
        assertThat(linkOut.err().strip()).isEqualTo(
                "error: INVALID_ARGUMENT: data: entry 'passwd' is a symbolic link to the absolute path '/etc/passwd'");

        Cli.Result unreachable = Cli.run(Map.of("BUILDFARM_ENDPOINT", "127.0.0.1:1"), "agents");
        assertThat(unreachable.exitCode()).isEqualTo(4);
        assertThat(unreachable.err().lines().toList()).singleElement().asString()
                .startsWith("error: UNAVAILABLE: cannot reach the controller at 127.0.0.1:1");
        assertThat(Registry.tags(image.substring(Farm.REGISTRY.length() + 1)).path("tags").size()).isZero();
    }

    @Test
    void agentsListsEveryPlatformWithItsMode() throws Exception {
        Cli.Result text = Cli.run("agents");
        assertThat(text.exitCode()).isZero();
        for (String platform : PLATFORMS) {
            assertThat(text.out()).containsPattern("(?m)^  " + platform + " +(native|emulated) +(idle|busy)( [0-9]+/[0-9]+)?$");
        }
        JsonNode json = JSON.readTree(Cli.run("--output", "json", "agents").out());
        List<String> platforms = new ArrayList<>();
        json.path("agents").forEach(a -> a.path("platforms").forEach(p -> platforms.add(p.path("platform").asText())));
        assertThat(platforms).containsAll(PLATFORMS);
    }
}
