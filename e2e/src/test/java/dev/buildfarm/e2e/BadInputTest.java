package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.ManifestAssemblerServiceGrpc;
import dev.buildfarm.api.v1.PublishIndexRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.Platform;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Bad requests over the real gRPC API: the right status, a message naming field and rule, nothing stored or queued. */
class BadInputTest {

    private static GitFixtures.Repo repo;
    private static Admin kafka;

    @BeforeAll
    static void setUp() throws Exception {
        repo = GitFixtures.publish(Farm.EXAMPLES);
        kafka = Admin.create(Map.of("bootstrap.servers", Farm.KAFKA));
    }

    @AfterAll
    static void tearDown() {
        kafka.close();
    }

    private static BuildSpec.Builder valid() {
        return BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                .setDockerfileDirectory("hello")
                .addPlatforms("linux/amd64")
                .setRepository(Farm.REGISTRY + "/e2e/bad-input")
                .addTags("main");
    }

    static Stream<Arguments> badRequests() {
        return Stream.of(
                row("windows", s -> s.addPlatforms("windows/amd64"), Status.Code.INVALID_ARGUMENT, "spec.platforms[1]", "Windows images are not supported"),
                row("unknown platform", s -> s.addPlatforms("linux/mips64"), Status.Code.INVALID_ARGUMENT, "spec.platforms[1]", "not a supported platform"),
                row("no platforms", s -> s.clearPlatforms(), Status.Code.INVALID_ARGUMENT, "spec.platforms", "at least one platform"),
                row("duplicates after normalisation", s -> s.addPlatforms("x86_64"), Status.Code.INVALID_ARGUMENT, "spec.platforms[1]", "duplicates"),
                row("four tags", s -> s.addTags("a").addTags("b").addTags("c"), Status.Code.INVALID_ARGUMENT, "spec.tags", "at most 3"),
                row("21 build args", s -> s.putAllBuildArgs(IntStream.range(0, 21).boxed()
                        .collect(Collectors.toMap(i -> "ARG" + i, i -> "v"))), Status.Code.INVALID_ARGUMENT, "spec.build_args", "at most 20"),
                row("bad tag", s -> s.clearTags().addTags("v1:latest"), Status.Code.INVALID_ARGUMENT, "spec.tags[0]", "OCI distribution grammar"),
                row("repository without namespace", s -> s.setRepository(Farm.REGISTRY + "/app"), Status.Code.INVALID_ARGUMENT, "spec.repository", "has no namespace"),
                row("bad repository", s -> s.setRepository(Farm.REGISTRY + "/Team/App"), Status.Code.INVALID_ARGUMENT, "spec.repository", "OCI distribution grammar"),
                row("directory with ..", s -> s.setDockerfileDirectory("../outside"), Status.Code.INVALID_ARGUMENT, "spec.dockerfile_directory", "leaves the repository"),
                row("absolute directory", s -> s.setDockerfileDirectory("/etc"), Status.Code.INVALID_ARGUMENT, "spec.dockerfile_directory", "relative path"),
                row("unknown ref", s -> s.setSource(s.getSource().toBuilder().setRef("no-such-branch")), Status.Code.FAILED_PRECONDITION, "spec.source.ref", "'no-such-branch' is neither a branch nor a tag"),
                row("unreachable source", s -> s.setSource(s.getSource().toBuilder().setUrl("git://127.0.0.1:1/nothing.git")), Status.Code.FAILED_PRECONDITION, "spec.source.url", "cannot read git repository"),
                // Git URLs: only https, http, ssh and git; nothing git would read as an option or a remote helper.
                url("remote helper ext::", "ext::sh -c touch% /tmp/pwned", "remote-helper address"),
                url("remote helper fd::", "fd::3", "remote-helper address"),
                url("option injection", "--upload-pack=touch /tmp/pwned", "starts with '-', which git reads as an option"),
                url("host as an ssh option", "ssh://-oProxyCommand=touch%20x/app.git", "the host '-oProxyCommand=touch%20x' starts with '-'"),
                url("user as an ssh option", "ssh://-oProxyCommand=x@127.0.0.1/app.git", "the user '-oProxyCommand=x' starts with '-'"),
                url("ftp scheme", "ftp://127.0.0.1/app.git", "scheme 'ftp' is not allowed"),
                url("scp-like address", "git@127.0.0.1:team/app.git", "has no scheme"),
                url("spaces in url", "git://127.0.0.1/a b.git", "spaces or control characters"),
                url("url over 2048 characters", "git://127.0.0.1/" + "a".repeat(2100), "at most 2048"),
                // Link-local and cloud metadata hosts, however they are written.
                url("metadata address", "http://169.254.169.254/latest/meta-data/", "'169.254.169.254' is 169.254.169.254, a link-local or cloud metadata address"),
                url("metadata address in decimal", "http://2852039166/x.git", "is 169.254.169.254, a link-local or cloud metadata address"),
                url("metadata address in hex", "http://0xa9fea9fe/x.git", "is 169.254.169.254"),
                url("alibaba cloud metadata", "https://100.100.100.200/x.git", "is 100.100.100.200, a link-local or cloud metadata address"),
                url("link-local ipv6", "git://[fe80::1]/x.git", "link-local or cloud metadata address"),
                url("aws ipv6 metadata", "http://[fd00:ec2::254]/x.git", "link-local or cloud metadata address"),
                url("ipv4-mapped metadata", "http://[::ffff:169.254.169.254]/x.git", "link-local or cloud metadata address"),
                url("metadata name", "http://metadata.google.internal/x.git", "'metadata.google.internal' is a cloud metadata service"),
                url("metadata short name", "http://metadata/x.git", "'metadata' is a cloud metadata service"),
                // Sizes and grammars of the other fields.
                row("directory over 1024 characters", s -> s.setDockerfileDirectory("d/".repeat(600)), Status.Code.INVALID_ARGUMENT, "spec.dockerfile_directory", "at most 1024"),
                row("control character in directory", s -> s.setDockerfileDirectory("hello\u0007"), Status.Code.INVALID_ARGUMENT, "spec.dockerfile_directory", "without control characters"),
                row("dockerfile name with a slash", s -> s.setDockerfileName("../Dockerfile"), Status.Code.INVALID_ARGUMENT, "spec.dockerfile_name", "without '/'"),
                row("build arg value over 4096", s -> s.putBuildArgs("V", "x".repeat(4097)), Status.Code.INVALID_ARGUMENT, "spec.build_args[V]", "longer than 4096"),
                row("build arg key grammar", s -> s.putBuildArgs("1X", "v"), Status.Code.INVALID_ARGUMENT, "spec.build_args[1X]", "key must match"),
                row("automatic build arg", s -> s.putBuildArgs("TARGETARCH", "x"), Status.Code.INVALID_ARGUMENT, "spec.build_args[TARGETARCH]", "set by the farm"),
                row("tag over 128 characters", s -> s.clearTags().addTags("t".repeat(129)), Status.Code.INVALID_ARGUMENT, "spec.tags[0]", "OCI distribution grammar"),
                row("repository over 255 characters", s -> s.setRepository(Farm.REGISTRY + "/" + "a".repeat(256)), Status.Code.INVALID_ARGUMENT, "spec.repository", "OCI distribution grammar"),
                row("repository without registry host", s -> s.setRepository("hello"), Status.Code.INVALID_ARGUMENT, "spec.repository", "registry-host"),
                row("ref over 255 characters", s -> s.setSource(s.getSource().toBuilder().setRef("r".repeat(256))), Status.Code.INVALID_ARGUMENT, "spec.source.ref", "not a valid git ref"),
                row("ref as an option", s -> s.setSource(s.getSource().toBuilder().setRef("--upload-pack=x")), Status.Code.INVALID_ARGUMENT, "spec.source.ref", "leading '-'"));
    }

    private static Arguments url(String name, String url, String rule) {
        return row(name, s -> s.setSource(s.getSource().toBuilder().setUrl(url)), Status.Code.INVALID_ARGUMENT, "spec.source.url", rule);
    }

    private static Arguments row(String name, UnaryOperator<BuildSpec.Builder> change, Status.Code code, String field, String rule) {
        return Arguments.of(name, change, code, field, rule);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRequests")
    void refusedBeforeAnythingIsStoredOrQueued(String name, UnaryOperator<BuildSpec.Builder> change, Status.Code code,
                                                String field, String rule) throws Exception {
        String newestBefore = newestBuildName();
        long queuedBefore = queuedJobs();

        SubmitBuildRequest request = SubmitBuildRequest.newBuilder()
                .setRequestId("bad-" + UUID.randomUUID())
                .setSpec(change.apply(valid()))
                .build();
        assertThatThrownBy(() -> Farm.builds().submitBuild(request))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(code);
                    assertThat(e.getStatus().getDescription()).contains(field).contains(rule);
                    // The same facts, machine-readable, as google.rpc.BadRequest.
                    assertThat(StatusProto.fromThrowable(e).getDetailsList())
                            .anySatisfy(any -> assertThat(any.getTypeUrl()).endsWith("google.rpc.BadRequest"));
                });

        assertThat(newestBuildName()).as("nothing stored").isEqualTo(newestBefore);
        assertThat(queuedJobs()).as("nothing queued").isEqualTo(queuedBefore);
    }

    @Test
    void aRequestOverTheMessageSizeLimitIsRefusedAndStoresNothing() throws Exception {
        String newestBefore = newestBuildName();
        long queuedBefore = queuedJobs();
        // 5 MiB, over the 4 MiB the controller accepts: refused by the gRPC server before any of it is read as a spec.
        SubmitBuildRequest request = SubmitBuildRequest.newBuilder()
                .setRequestId("oversized-" + UUID.randomUUID())
                .setSpec(valid().putBuildArgs("HUGE", "x".repeat(5 << 20)))
                .build();
        assertThatThrownBy(() -> Farm.builds().submitBuild(request))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        assertThat(newestBuildName()).as("nothing stored").isEqualTo(newestBefore);
        assertThat(queuedJobs()).as("nothing queued").isEqualTo(queuedBefore);
        // The controller still serves the next call.
        assertThat(Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setPageSize(1).build())).isNotNull();
    }

    @Test
    void theAssemblerRefusesARequestOverItsMessageSizeLimit() throws Exception {
        String path = "e2e/oversized-" + UUID.randomUUID().toString().substring(0, 8);
        io.grpc.ManagedChannel channel = Farm.channelTo("https://127.0.0.1:8445").build();
        try {
            PublishIndexRequest.Builder request = PublishIndexRequest.newBuilder().setRepository(Farm.REGISTRY + "/" + path);
            for (int i = 0; i < 40_000; i++) {
                request.addTags("t" + "x".repeat(120) + i);
            }
            assertThat(request.build().getSerializedSize()).isGreaterThan(4 << 20);
            assertThatThrownBy(() -> ManifestAssemblerServiceGrpc.newBlockingStub(channel).publishIndex(request.build()))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        } finally {
            channel.shutdownNow();
        }
        assertThat(Registry.tags(path).path("tags").size()).as("nothing published").isZero();
    }

    /**
     * A symbolic link in the repository that leads out of the checkout, as the Dockerfile directory or
     * as the Dockerfile: the controller cannot see it, so the agent refuses it and the platform fails
     * saying why; nothing is published.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("linksOut")
    void aSymbolicLinkLeadingOutOfTheCheckoutFailsThePlatform(String name, String directory, String dockerfile) throws Exception {
        GitFixtures.Repo linked = GitFixtures.publishWithLinks(
                Map.of("app/Dockerfile", "FROM " + Farm.REGISTRY + "/library/busybox:latest\nRUN true\n"),
                Map.of("escape", "/etc", "app/Dockerfile.out", "/etc/passwd", "app/Dockerfile.up", "../../../../../../../../etc/passwd"));
        String path = "e2e/link-out-" + UUID.randomUUID().toString().substring(0, 8);
        Build build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("link-out-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(linked.url()).setRef("main"))
                        .setDockerfileDirectory(directory).setDockerfileName(dockerfile)
                        .addPlatforms("linux/amd64")
                        .setRepository(Farm.REGISTRY + "/" + path)
                        .addTags("latest"))
                .build());
        Build done = Farm.awaitFinal(build.getName(), java.time.Duration.ofMinutes(2));

        assertThat(done.getState()).isEqualTo(Build.State.FAILED);
        assertThat(done.getPlatformBuilds(0).getFailureReason()).contains("symbolic link leading out of the checkout");
        assertThat(done.getFailureReason()).startsWith("linux/amd64: ").contains("symbolic link leading out of the checkout");
        assertThat(done.getIndexDigest()).isEmpty();
        assertThat(Registry.tags(path).path("tags").size()).as("nothing published").isZero();
    }

    static Stream<Arguments> linksOut() {
        return Stream.of(
                Arguments.of("directory linked to /etc", "escape", "Dockerfile"),
                Arguments.of("Dockerfile linked to /etc/passwd", "app", "Dockerfile.out"),
                Arguments.of("Dockerfile linked up and out", "app", "Dockerfile.up"));
    }

    @Test
    void unknownAndMalformedBuildNames() {
        assertThatThrownBy(() -> Farm.builds().getBuild(GetBuildRequest.newBuilder().setName("builds/" + UUID.randomUUID()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        assertThatThrownBy(() -> Farm.builds().getBuild(GetBuildRequest.newBuilder().setName("nope").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(e.getStatus().getDescription()).contains("name");
                });
        assertThatThrownBy(() -> Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setPageToken("garbage").build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription()).contains("page_token"));
    }

    @Test
    void listPagesNewestFirstWithoutGapsOrRepeats() {
        ListBuildsResponse all = Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setPageSize(6).build());
        ListBuildsResponse first = Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setPageSize(3).build());
        List<String> paged = new java.util.ArrayList<>(first.getBuildsList().stream().map(b -> b.getName()).toList());
        if (!first.getNextPageToken().isEmpty()) {
            ListBuildsResponse second = Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setPageSize(3)
                    .setPageToken(first.getNextPageToken()).build());
            second.getBuildsList().forEach(b -> paged.add(b.getName()));
        }
        assertThat(paged).isEqualTo(all.getBuildsList().stream().map(b -> b.getName()).toList());
        assertThat(all.getBuildsList()).isSortedAccordingTo((a, b) -> Long.compare(
                b.getCreateTime().getSeconds() * 1_000_000_000L + b.getCreateTime().getNanos(),
                a.getCreateTime().getSeconds() * 1_000_000_000L + a.getCreateTime().getNanos()));
    }

    private static String newestBuildName() {
        ListBuildsResponse page = Farm.builds().listBuilds(ListBuildsRequest.newBuilder().setPageSize(1).build());
        return page.getBuildsCount() == 0 ? "" : page.getBuilds(0).getName();
    }

    /** Records ever written to the job topics: a refused request must not add one. */
    private static long queuedJobs() throws Exception {
        List<String> topics = Platform.SUPPORTED.stream().map(JobTopics::forPlatform).toList();
        Map<TopicPartition, OffsetSpec> request = kafka.describeTopics(topics).allTopicNames().get().values().stream()
                .flatMap(d -> d.partitions().stream().map(p -> new TopicPartition(d.name(), p.partition())))
                .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
        return kafka.listOffsets(request).all().get().values().stream().mapToLong(r -> r.offset()).sum();
    }
}
