package dev.buildfarm.bench;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.BuildRuleServiceGrpc;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The running farm and its stack as the benchmarks see them: gRPC stubs, the git daemon's directory,
 * the docker CLI. Addresses come from the environment dev/env.sh exports, with the same defaults.
 */
final class Farm implements AutoCloseable {

    /** The controller's gRPC endpoint: https:// is mutual TLS with the stack's dev CA and operator certificate. */
    final String endpoint = env("BUILDFARM_ENDPOINT", "https://127.0.0.1:8443");
    /** The controller's plain HTTP port (webhooks). */
    final String httpBase = env("BUILDFARM_HTTP", "http://127.0.0.1:8080");
    final Path tlsDir = Path.of(env("BUILDFARM_STACK_DIR", ".stack"), "secrets", "tls");
    final String tlsCa = env("BUILDFARM_TLS_CA", tlsDir.resolve("ca.crt").toString());
    final String tlsCert = env("BUILDFARM_TLS_CERT", tlsDir.resolve("operator.crt").toString());
    final String tlsKey = env("BUILDFARM_TLS_KEY", tlsDir.resolve("operator.key").toString());
    final String registry = env("REGISTRY", "127.0.0.1:5000");

    /** The four platforms of the farm, as the multi-platform benchmarks build them. */
    static final List<String> ALL_PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");

    /** A four-platform build of a pinned commit, tagged latest in {@code <registry>/<path>}. */
    SubmitBuildRequest pinnedRequest(String gitUrl, String commit, String requestId, String path) {
        return SubmitBuildRequest.newBuilder()
                .setRequestId(requestId)
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(gitUrl).setCommit(commit))
                        .addAllPlatforms(ALL_PLATFORMS)
                        .setRepository(registry + "/" + path)
                        .addTags("latest"))
                .build();
    }
    final String baseImage = env("BASE_IMAGE", "127.0.0.1:5000/library/busybox:latest");
    final String kafka = env("KAFKA", "127.0.0.1:9092");
    final Path gitBase = Path.of(env("GIT_BASE", Path.of(env("BUILDFARM_STACK_DIR", ".stack"), "git").toString())).toAbsolutePath();
    final String gitUrlBase = env("GIT_URL_BASE", "git://127.0.0.1:9418");
    final String pgUrl = env("PG_URL", "jdbc:postgresql://127.0.0.1:5432/buildfarm");
    final String pgUser = env("PG_USER", "buildfarm");
    final String pgPassword = env("PG_PASSWORD", "buildfarm");

    /** The operator token dev/services.sh made for the stack (BUILDFARM_TOKEN overrides it); empty without one. */
    final String token = token();

    private final ManagedChannel channel = authenticated(channelTo(endpoint).maxInboundMessageSize(16 * 1024 * 1024)).build();

    /** A channel builder for ENDPOINT: https://HOST:PORT over mutual TLS as the operator, else plaintext. */
    io.grpc.ManagedChannelBuilder<?> channelTo(String target) {
        return channelTo(target, tlsCert, tlsKey);
    }

    /** The same, presenting CERT and KEY as the client certificate (none when null). */
    io.grpc.ManagedChannelBuilder<?> channelTo(String target, String cert, String key) {
        if (!target.startsWith("https://")) {
            return Grpc.newChannelBuilder(target.replaceFirst("^http://", ""), InsecureChannelCredentials.create());
        }
        try {
            TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder().trustManager(new java.io.File(tlsCa));
            if (cert != null) {
                credentials.keyManager(new java.io.File(cert), new java.io.File(key));
            }
            return Grpc.newChannelBuilder(target.substring("https://".length()), credentials.build());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("the farm's TLS files (dev/services.sh up makes them)", e);
        }
    }

    /** The builder, sending the farm's token on every call. */
    io.grpc.ManagedChannelBuilder<?> authenticated(io.grpc.ManagedChannelBuilder<?> builder) {
        if (token.isEmpty()) {
            return builder;
        }
        io.grpc.Metadata metadata = new io.grpc.Metadata();
        metadata.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return builder.intercept(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(metadata));
    }

    private String token() {
        String value = env("BUILDFARM_TOKEN", "");
        if (!value.isEmpty()) {
            return value.trim();
        }
        Path file = Path.of(env("BUILDFARM_STACK_DIR", ".stack"), "secrets", "operator.token");
        try {
            return java.nio.file.Files.exists(file) ? java.nio.file.Files.readString(file).trim() : "";
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    BuildServiceGrpc.BuildServiceBlockingStub builds() {
        return BuildServiceGrpc.newBlockingStub(channel);
    }

    BuildServiceGrpc.BuildServiceStub buildsAsync() {
        return BuildServiceGrpc.newStub(channel);
    }

    BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules() {
        return BuildRuleServiceGrpc.newBlockingStub(channel);
    }

    /** A git repository on the stack's git daemon, committed with the git CLI. */
    record GitRepo(Path dir, String url) {

        String commit(String message, Map<String, String> files) throws IOException, InterruptedException {
            for (Map.Entry<String, String> file : files.entrySet()) {
                Path target = dir.resolve(file.getKey());
                Files.createDirectories(target.getParent());
                Files.writeString(target, file.getValue(), StandardCharsets.UTF_8);
            }
            git("add", "-A");
            git("-c", "user.name=bench", "-c", "user.email=bench@localhost", "commit", "-q", "--allow-empty", "-m", message);
            return git("rev-parse", "HEAD");
        }

        /** Points a branch at a commit without moving HEAD. */
        void branch(String name, String commit) throws IOException, InterruptedException {
            git("update-ref", "refs/heads/" + name, commit);
        }

        String git(String... args) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("git", "-C", dir.toString()));
            command.addAll(List.of(args));
            return run(command, Duration.ofMinutes(1));
        }

        void delete() {
            try (Stream<Path> paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // Best effort: a leftover fixture only costs disk.
            }
        }
    }

    /** A new repository (branch main, these files) under $GIT_BASE, checked to be served by the daemon. */
    GitRepo gitRepo(String prefix, Map<String, String> files) throws IOException, InterruptedException {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        Path dir = gitBase.resolve(name);
        Files.createDirectories(dir);
        run(List.of("git", "-C", dir.toString(), "init", "-q", "-b", "main"), Duration.ofMinutes(1));
        GitRepo repo = new GitRepo(dir, gitUrlBase + "/" + name);
        repo.commit("bench fixture", files);
        try {
            run(List.of("git", "ls-remote", repo.url(), "refs/heads/main"), Duration.ofSeconds(30));
        } catch (IllegalStateException e) {
            repo.delete();
            throw new IllegalStateException("the git daemon at " + gitUrlBase + " does not serve " + dir
                    + "; set GIT_BASE (or BUILDFARM_STACK_DIR) to the directory it serves", e);
        }
        return repo;
    }

    /** Cancels a build, ignoring one that already ended. */
    void cancelQuietly(String name) {
        try {
            builds().withDeadlineAfter(30, TimeUnit.SECONDS).cancelBuild(CancelBuildRequest.newBuilder().setName(name).build());
        } catch (StatusRuntimeException ignored) {
            // Finished meanwhile (FAILED_PRECONDITION): nothing to stop.
        }
    }

    Build get(String name) {
        return builds().withDeadlineAfter(30, TimeUnit.SECONDS).getBuild(GetBuildRequest.newBuilder().setName(name).build());
    }

    static String docker(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        return run(command, Duration.ofMinutes(2));
    }

    /** Runs a command, returns its trimmed output, fails on a non-zero exit or the time limit. */
    static String run(List<String> command, Duration limit) throws IOException, InterruptedException {
        Path out = Files.createTempFile("bench", ".out");
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " took longer than " + limit);
            }
            String output = Files.readString(out, StandardCharsets.UTF_8).trim();
            if (process.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", command) + " exited " + process.exitValue() + ": " + output);
            }
            return output;
        } finally {
            Files.deleteIfExists(out);
        }
    }

    static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    static int envInt(String name, int fallback) {
        return Integer.parseInt(env(name, Integer.toString(fallback)));
    }

    static String shortId() {
        return UUID.randomUUID().toString().substring(0, 8);
    }

    @Override
    public void close() {
        channel.shutdownNow();
    }
}
