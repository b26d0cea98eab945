package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.BuildSpec;
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
                row("unreachable source", s -> s.setSource(s.getSource().toBuilder().setUrl("git://127.0.0.1:1/nothing.git")), Status.Code.FAILED_PRECONDITION, "spec.source.url", "cannot read git repository"));
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
