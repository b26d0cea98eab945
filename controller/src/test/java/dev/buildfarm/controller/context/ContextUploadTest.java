package dev.buildfarm.controller.context;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.Context;
import dev.buildfarm.api.v1.ContextChunk;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.controller.rules.ControllerApi;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * UploadContext over real gRPC on the test controller (limit 4M in the test profile): what is
 * stored, what is refused and with which status, and that a refused upload leaves nothing behind.
 */
@QuarkusTest
class ContextUploadTest {

    private final int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
    private final Path store = Path.of(ConfigProvider.getConfig().getValue("buildfarm.contexts.directory", String.class));
    private final ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();

    @AfterEach
    void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void theSameContextIsStoredOnceUnderItsSha256() throws Exception {
        byte[] tar = tar(t -> {
            file(t, "Dockerfile", "FROM scratch\nCOPY hello.txt /\n" + System.nanoTime());
            file(t, "hello.txt", "hello");
            symlink(t, "sub/link", "../hello.txt");
        });

        Context first = upload(tar, 1000);
        Context second = upload(tar, 64 * 1024);

        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(tar));
        assertThat(first.getDigest()).isEqualTo("sha256:" + hex);
        assertThat(first.getSizeBytes()).isEqualTo(tar.length);
        assertThat(first.getEntries()).isEqualTo(3);
        assertThat(first.getExisted()).isFalse();
        assertThat(second.getDigest()).isEqualTo(first.getDigest());
        assertThat(second.getExisted()).isTrue();
        assertThat(Files.readAllBytes(store.resolve("sha256").resolve(hex + ".tar"))).isEqualTo(tar);
        assertNoLeftovers();
    }

    @Test
    void aContextOverTheLimitIsResourceExhaustedAndNotStored() throws Exception {
        byte[] big = new byte[5 * 1024 * 1024];
        new Random(1).nextBytes(big);
        byte[] tar = tar(t -> file(t, "big.bin", big));

        assertThatThrownBy(() -> upload(tar, 1024 * 1024))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
                    assertThat(e.getStatus().getDescription()).contains("larger than the limit of 4194304 bytes");
                });
        assertNoLeftovers();
        assertThat(stored()).noneMatch(p -> p.contains(sha256(tar)));
    }

    @Test
    void entriesThatLeaveTheContextAreRefusedByName() {
        assertRefused(tar(t -> file(t, "../evil", "x")), "entry '../evil' has a '..' component");
        assertRefused(tar(t -> file(t, "a/../../evil", "x")), "entry 'a/../../evil' has a '..' component");
        assertRefused(tar(t -> file(t, "/etc/cron.d/evil", "x")), "entry '/etc/cron.d/evil' is an absolute path");
        assertRefused(tar(t -> symlink(t, "sub/out", "../../etc/passwd")),
                "entry 'sub/out' is a symbolic link to '../../etc/passwd', outside the context");
        assertRefused(tar(t -> symlink(t, "abs", "/etc/passwd")),
                "entry 'abs' is a symbolic link to the absolute path '/etc/passwd'");
        assertRefused("not a tar at all".repeat(100).getBytes(StandardCharsets.UTF_8), "is not a valid tar stream");
    }

    @Test
    void aBuildNamesExactlyOneSourceAndAnUploadedContext() throws Exception {
        BuildServiceGrpc.BuildServiceBlockingStub builds = BuildServiceGrpc.newBlockingStub(channel);
        String repository = "127.0.0.1:5000/context-test/" + ControllerApi.uniqueId("app");
        BuildSpec.Builder spec = BuildSpec.newBuilder().addPlatforms("linux/amd64")
                .setRepository(repository).addTags("ctx");

        assertThatThrownBy(() -> builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(spec.clone()
                .setContextDigest("sha256:" + "a".repeat(64))
                .setSource(GitSource.newBuilder().setUrl("https://example.com/x.git").setRef("main"))).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("spec.source: set exactly one of source");
                });
        assertThatThrownBy(() -> builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(spec.clone()
                .setContextDigest("sha256:nothex")).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                        assertThat(e.getStatus().getDescription()).contains("spec.context_digest: 'sha256:nothex' must be sha256:"));
        assertThatThrownBy(() -> builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(spec.clone()
                .setContextDigest("sha256:" + "b".repeat(64))).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(e.getStatus().getDescription()).contains("no context sha256:bbbb");
                });
        assertThat(builds.listBuilds(ListBuildsRequest.newBuilder().setRepository(repository).build())
                .getBuildsList()).as("builds stored for refused requests").isEmpty();

        Context context = upload(tar(t -> file(t, "Dockerfile", "FROM scratch\n" + System.nanoTime())), 4096);
        var build = builds.submitBuild(SubmitBuildRequest.newBuilder().setSpec(spec.clone()
                .setContextDigest(context.getDigest())).build());
        assertThat(build.getSpec().getContextDigest()).isEqualTo(context.getDigest());
        assertThat(build.getSpec().hasSource()).isFalse();
        assertThat(build.getNamespace()).isEqualTo("context-test");
    }

    @Test
    void aRequestIdIsAKeyOfOneNamespace() throws Exception {
        BuildServiceGrpc.BuildServiceBlockingStub builds = BuildServiceGrpc.newBlockingStub(channel);
        Context context = upload(tar(t -> file(t, "Dockerfile", "FROM scratch\n" + System.nanoTime())), 4096);
        String requestId = ControllerApi.uniqueId("req");
        String name = ControllerApi.uniqueId("app");
        SubmitBuildRequest.Builder request = SubmitBuildRequest.newBuilder().setRequestId(requestId)
                .setSpec(BuildSpec.newBuilder().addPlatforms("linux/amd64").addTags("ctx").setContextDigest(context.getDigest()));

        var first = builds.submitBuild(request.clone().setSpec(request.getSpec().toBuilder()
                .setRepository("127.0.0.1:5000/team-a/" + name)).build());
        var again = builds.submitBuild(request.clone().setSpec(request.getSpec().toBuilder()
                .setRepository("127.0.0.1:5000/team-a/" + name)).build());
        var otherTeam = builds.submitBuild(request.clone().setSpec(request.getSpec().toBuilder()
                .setRepository("127.0.0.1:5000/team-b/" + name)).build());

        assertThat(again.getName()).isEqualTo(first.getName());
        assertThat(otherTeam.getName()).isNotEqualTo(first.getName());
        assertThat(first.getNamespace()).isEqualTo("team-a");
        assertThat(otherTeam.getNamespace()).isEqualTo("team-b");
    }

    private void assertRefused(byte[] tar, String message) {
        assertThatThrownBy(() -> upload(tar, 512))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains(message);
                });
        assertNoLeftovers();
        assertThat(stored()).noneMatch(p -> p.contains(sha256(tar)));
    }

    private Context upload(byte[] tar, int chunkSize) throws Exception {
        CompletableFuture<Context> answer = new CompletableFuture<>();
        StreamObserver<ContextChunk> requests = BuildServiceGrpc.newStub(channel).uploadContext(new StreamObserver<>() {
            @Override
            public void onNext(Context value) {
                answer.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                answer.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        for (int off = 0; off < tar.length; off += chunkSize) {
            requests.onNext(ContextChunk.newBuilder()
                    .setData(ByteString.copyFrom(tar, off, Math.min(chunkSize, tar.length - off))).build());
        }
        requests.onCompleted();
        try {
            return answer.get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    private void assertNoLeftovers() {
        Path tmp = store.resolve("tmp");
        if (Files.isDirectory(tmp)) {
            try (Stream<Path> files = Files.list(tmp)) {
                assertThat(files.toList()).as("temporary upload files").isEmpty();
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }
    }

    private List<String> stored() {
        try (Stream<Path> files = Files.list(store.resolve("sha256"))) {
            return files.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    interface Entries {
        void write(TarArchiveOutputStream tar) throws IOException;
    }

    static byte[] tar(Entries entries) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            entries.write(tar);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return bytes.toByteArray();
    }

    static void file(TarArchiveOutputStream tar, String name, String content) throws IOException {
        file(tar, name, content.getBytes(StandardCharsets.UTF_8));
    }

    static void file(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name, true); // preserve the name as given
        entry.setSize(content.length);
        tar.putArchiveEntry(entry);
        tar.write(content);
        tar.closeArchiveEntry();
    }

    static void symlink(TarArchiveOutputStream tar, String name, String target) throws IOException {
        TarArchiveEntry entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK, true);
        entry.setLinkName(target);
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
    }
}
