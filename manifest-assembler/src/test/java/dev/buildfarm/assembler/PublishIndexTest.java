package dev.buildfarm.assembler;

import static dev.buildfarm.assembler.TestRegistry.CLIENT;
import static dev.buildfarm.assembler.TestRegistry.newRepository;
import static dev.buildfarm.assembler.TestRegistry.pushImage;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.rpc.BadRequest;
import dev.buildfarm.api.v1.IndexChild;
import dev.buildfarm.api.v1.ManifestAssemblerServiceGrpc;
import dev.buildfarm.api.v1.PublishIndexRequest;
import dev.buildfarm.api.v1.PublishIndexResponse;
import dev.buildfarm.assembler.registry.Digests;
import dev.buildfarm.assembler.registry.MediaTypes;
import dev.buildfarm.assembler.registry.RegistryClient;
import dev.buildfarm.assembler.registry.RegistryException;
import dev.buildfarm.assembler.registry.Repository;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.test.junit.QuarkusTest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** PublishIndex over real gRPC against the real registry, checked the way a puller would see it. */
@QuarkusTest
class PublishIndexTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ANY_DIGEST = "sha256:" + "ab".repeat(32);

    private ManagedChannel channel;
    private ManifestAssemblerServiceGrpc.ManifestAssemblerServiceBlockingStub assembler;

    @BeforeAll
    static void registryIsUp() {
        TestRegistry.requireReachable();
    }

    @BeforeEach
    void connect() {
        int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
        assembler = ManifestAssemblerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    @Test
    void publishesAnIndexOfEveryPlatformUnderEachTag() throws Exception {
        Repository repo = newRepository();
        // Mixed child types, and arm64 with the "v8" variant docker writes: all must be accepted.
        String amd64 = pushImage(repo, "amd64", "", MediaTypes.DOCKER_MANIFEST);
        String arm64 = pushImage(repo, "arm64", "v8");
        String armv7 = pushImage(repo, "arm", "v7");
        String armv6 = pushImage(repo, "arm", "v6");

        PublishIndexResponse published = assembler.publishIndex(PublishIndexRequest.newBuilder()
                .setRepository(repo.toString())
                .addTags("1.0").addTags("latest")
                // Submitted out of order: the index order is fixed regardless.
                .addChildren(child("linux/arm/v6", armv6))
                .addChildren(child("linux/arm64", arm64))
                .addChildren(child("linux/amd64", amd64))
                .addChildren(child("linux/arm/v7", armv7))
                .putAnnotations("org.opencontainers.image.revision", "0123abc")
                .build());

        assertThat(published.getMediaType()).isEqualTo(MediaTypes.OCI_INDEX);
        for (String tag : List.of("1.0", "latest")) {
            RegistryClient.Manifest index = CLIENT.getManifest(repo, tag, List.of(MediaTypes.OCI_INDEX));
            assertThat(index.digest()).isEqualTo(published.getIndexDigest());
            assertThat(index.bytes()).hasSize((int) published.getIndexSize());
            assertThat(index.mediaType()).isEqualTo(MediaTypes.OCI_INDEX);

            JsonNode json = JSON.readTree(index.bytes());
            assertThat(json.path("schemaVersion").asInt()).isEqualTo(2);
            assertThat(json.path("mediaType").asText()).isEqualTo(MediaTypes.OCI_INDEX);
            assertThat(json.path("annotations").path("org.opencontainers.image.revision").asText()).isEqualTo("0123abc");
            List<String> entries = new ArrayList<>();
            json.path("manifests").forEach(m -> entries.add(m.path("platform").path("os").asText() + "/"
                    + m.path("platform").path("architecture").asText()
                    + (m.path("platform").has("variant") ? "/" + m.path("platform").path("variant").asText() : "")
                    + " " + m.path("digest").asText() + " " + m.path("mediaType").asText()));
            assertThat(entries).containsExactly(
                    "linux/amd64 " + amd64 + " " + MediaTypes.DOCKER_MANIFEST,
                    "linux/arm64 " + arm64 + " " + MediaTypes.OCI_MANIFEST,
                    "linux/arm/v7 " + armv7 + " " + MediaTypes.OCI_MANIFEST,
                    "linux/arm/v6 " + armv6 + " " + MediaTypes.OCI_MANIFEST);
            // Each entry's size is that of the child's stored manifest.
            for (JsonNode m : json.path("manifests")) {
                String digest = m.path("digest").asText();
                assertThat(m.path("size").asLong()).isEqualTo(
                        CLIENT.getManifest(repo, digest, MediaTypes.IMAGE_MANIFESTS).bytes().length);
            }
        }
    }

    @Test
    void childrenPushedToAStagingRepositoryAreCopiedByDigestAndOnlyTheIndexIsTagged() throws Exception {
        Repository staging = newRepository();
        Repository target = newRepository();
        String amd64 = pushImage(staging, "amd64", "");
        String armv7 = pushImage(staging, "arm", "v7");
        assertThatThrownBy(() -> CLIENT.getManifest(target, amd64, MediaTypes.IMAGE_MANIFESTS)).isInstanceOf(RegistryException.class);

        PublishIndexResponse published = assembler.publishIndex(PublishIndexRequest.newBuilder()
                .setRepository(target.toString()).addTags("main")
                .addChildren(child("linux/amd64", amd64).toBuilder().setSourceRepository(staging.toString()))
                .addChildren(child("linux/arm/v7", armv7).toBuilder().setSourceRepository(staging.toString()))
                .build());

        assertThat(CLIENT.getManifest(target, "main", List.of(MediaTypes.OCI_INDEX)).digest()).isEqualTo(published.getIndexDigest());
        for (String child : List.of(amd64, armv7)) {
            RegistryClient.Manifest copied = CLIENT.getManifest(target, child, MediaTypes.IMAGE_MANIFESTS);
            JsonNode json = JSON.readTree(copied.bytes());
            assertThat(CLIENT.headBlob(target, json.path("config").path("digest").asText())).isTrue();
            assertThat(CLIENT.headBlob(target, json.path("layers").get(0).path("digest").asText())).isTrue();
        }
        assertThat(tags(target)).containsExactly("main");
    }

    @Test
    void aChildMissingFromItsSourceRepositoryIsRefusedAndNothingIsTagged() {
        Repository staging = newRepository();
        Repository target = newRepository();
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> assembler.publishIndex(
                PublishIndexRequest.newBuilder().setRepository(target.toString()).addTags("main")
                        .addChildren(child("linux/amd64", ANY_DIGEST).toBuilder().setSourceRepository(staging.toString()))
                        .build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e.getStatus().getDescription()).contains("not found in " + staging);
        assertNoTag(target, "main");
    }

    @Test
    void sameInputsGiveTheSameIndexDigest() {
        Repository repo = newRepository();
        String amd64 = pushImage(repo, "amd64", "");
        String arm64 = pushImage(repo, "arm64", "");
        PublishIndexRequest request = PublishIndexRequest.newBuilder()
                .setRepository(repo.toString()).addTags("v1")
                .addChildren(child("linux/amd64", amd64)).addChildren(child("linux/arm64", arm64))
                .putAnnotations("b", "2").putAnnotations("a", "1")
                .build();

        String first = assembler.publishIndex(request).getIndexDigest();
        String again = assembler.publishIndex(request).getIndexDigest();
        String reordered = assembler.publishIndex(request.toBuilder().clearChildren()
                .addChildren(child("linux/arm64", arm64)).addChildren(child("linux/amd64", amd64))
                .setRepository(repo.toString()).build()).getIndexDigest();

        assertThat(again).isEqualTo(first);
        assertThat(reordered).isEqualTo(first);
        assertThat(CLIENT.getManifest(repo, "v1", List.of(MediaTypes.OCI_INDEX)).digest()).isEqualTo(first);
        // A different set of children is a different index, and the tag moves to it.
        String amd64Only = assembler.publishIndex(request.toBuilder().clearChildren()
                .addChildren(child("linux/amd64", amd64)).build()).getIndexDigest();
        assertThat(amd64Only).isNotEqualTo(first);
        assertThat(CLIENT.getManifest(repo, "v1", List.of(MediaTypes.OCI_INDEX)).digest()).isEqualTo(amd64Only);
    }

    @Test
    void childWhoseConfigIsAnotherPlatformIsRefusedAndTheTagStays() {
        Repository repo = newRepository();
        String amd64 = pushImage(repo, "amd64", "");
        String arm64 = pushImage(repo, "arm64", "");
        String before = assembler.publishIndex(PublishIndexRequest.newBuilder()
                .setRepository(repo.toString()).addTags("stable")
                .addChildren(child("linux/amd64", amd64)).build()).getIndexDigest();

        PublishIndexRequest.Builder wrong = PublishIndexRequest.newBuilder()
                .setRepository(repo.toString()).addTags("stable").addTags("fresh")
                .addChildren(child("linux/amd64", amd64))
                .addChildren(child("linux/arm/v7", arm64));
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> assembler.publishIndex(wrong.build()));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e.getStatus().getDescription()).contains("children[1]", "linux/arm/v7", arm64, "linux/arm64");
        assertThat(CLIENT.getManifest(repo, "stable", List.of(MediaTypes.OCI_INDEX)).digest()).isEqualTo(before);
        assertNoTag(repo, "fresh");
    }

    @Test
    void missingChildIsRefusedAndNoTagIsCreated() {
        Repository repo = newRepository();
        String amd64 = pushImage(repo, "amd64", "");
        String missing = Digests.sha256("never pushed".getBytes());

        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> assembler.publishIndex(PublishIndexRequest.newBuilder()
                        .setRepository(repo.toString()).addTags("latest")
                        .addChildren(child("linux/amd64", amd64))
                        .addChildren(child("linux/arm64", missing)).build()));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e.getStatus().getDescription()).contains("linux/arm64", missing, "not found");
        assertNoTag(repo, "latest");
    }

    @Test
    void anIndexIsNotAcceptedAsAChild() {
        Repository repo = newRepository();
        String amd64 = pushImage(repo, "amd64", "");
        String index = assembler.publishIndex(PublishIndexRequest.newBuilder()
                .setRepository(repo.toString()).addTags("inner")
                .addChildren(child("linux/amd64", amd64)).build()).getIndexDigest();

        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> assembler.publishIndex(PublishIndexRequest.newBuilder()
                        .setRepository(repo.toString()).addTags("outer")
                        .addChildren(child("linux/amd64", index)).build()));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(e.getStatus().getDescription()).contains(index, "image index");
        assertNoTag(repo, "outer");
    }

    static Stream<Arguments> invalidRequests() {
        return Stream.of(
                invalid("repository", r -> r.setRepository("")),
                invalid("repository", r -> r.setRepository("127.0.0.1:5000/Upper/Case")),
                invalid("repository", r -> r.setRepository("library/hello")),
                invalid("repository", r -> r.setRepository("127.0.0.1:5000/a//b")),
                invalid("repository", r -> r.setRepository("127.0.0.1:5000/trailing-")),
                invalid("tags", r -> r.clearTags()),
                invalid("tags", r -> r.addTags("b").addTags("c").addTags("d")),
                invalid("tags[0]", r -> r.setTags(0, "-leading-dash")),
                invalid("tags[0]", r -> r.setTags(0, "x".repeat(129))),
                invalid("tags[1]", r -> r.addTags("v1")),
                invalid("children", r -> r.clearChildren()),
                invalid("children[0].platform", r -> r.setChildren(0, child("linux/s390x", ANY_DIGEST))),
                invalid("children[0].platform", r -> r.setChildren(0, child("linux/aarch64", ANY_DIGEST))),
                invalid("children[1].platform", r -> r.addChildren(child("linux/amd64", ANY_DIGEST))),
                invalid("children[0].digest", r -> r.setChildren(0, child("linux/amd64", "sha256:ABC"))),
                invalid("children[0].digest", r -> r.setChildren(0, child("linux/amd64", "latest"))),
                invalid("annotations", r -> r.putAnnotations("", "x")));
    }

    @ParameterizedTest(name = "{0}: {index}")
    @MethodSource("invalidRequests")
    void badFieldsAreInvalidArgumentNamingTheField(String field, UnaryOperator<PublishIndexRequest.Builder> breaking)
            throws Exception {
        PublishIndexRequest.Builder valid = PublishIndexRequest.newBuilder()
                .setRepository("127.0.0.1:5000/demo/hello").addTags("v1")
                .addChildren(child("linux/amd64", ANY_DIGEST));

        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> assembler.publishIndex(breaking.apply(valid).build()));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).startsWith(field + ": ");
        BadRequest details = StatusProto.fromThrowable(e).getDetails(0).unpack(BadRequest.class);
        assertThat(details.getFieldViolations(0).getField()).isEqualTo(field);
    }

    @Test
    void unreachableRegistryIsUnavailable() {
        // Nothing listens on port 1; the client retries (quickly, in the test profile) and gives up.
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                () -> assembler.publishIndex(PublishIndexRequest.newBuilder()
                        .setRepository("127.0.0.1:1/demo/hello").addTags("v1")
                        .addChildren(child("linux/amd64", ANY_DIGEST)).build()));

        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(e.getStatus().getDescription()).contains("127.0.0.1:1", "5 tries");
    }

    private static Arguments invalid(String field, UnaryOperator<PublishIndexRequest.Builder> breaking) {
        return Arguments.of(field, breaking);
    }

    private static IndexChild child(String platform, String digest) {
        return IndexChild.newBuilder().setPlatform(platform).setDigest(digest).build();
    }

    private static List<String> tags(Repository repo) throws Exception {
        var response = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://" + repo.host() + "/v2/" + repo.path() + "/tags/list")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray());
        List<String> tags = new ArrayList<>();
        JSON.readTree(response.body()).path("tags").forEach(t -> tags.add(t.asText()));
        return tags;
    }

    private static void assertNoTag(Repository repo, String tag) {
        assertThatThrownBy(() -> CLIENT.getManifest(repo, tag, List.of(MediaTypes.OCI_INDEX)))
                .isInstanceOfSatisfying(RegistryException.class, r -> assertThat(r.status()).isEqualTo(404));
    }
}
