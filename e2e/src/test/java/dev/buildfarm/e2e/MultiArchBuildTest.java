package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.common.Platform;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The walking skeleton as a user sees it: one submission, one tag, four architectures that run. */
class MultiArchBuildTest {

    private static final List<String> PLATFORMS = List.of("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");
    private static final String REPOSITORY_PATH = "e2e/hello-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String REPOSITORY = Farm.REGISTRY + "/" + REPOSITORY_PATH;
    private static final String REQUEST_ID = "e2e-" + UUID.randomUUID();

    private static GitFixtures.Repo repo;
    private static SubmitBuildRequest request;
    private static Build submitted;
    private static Build build;

    @BeforeAll
    static void buildHelloForFourPlatforms() throws Exception {
        repo = GitFixtures.publish(Farm.EXAMPLES);
        request = SubmitBuildRequest.newBuilder()
                .setRequestId(REQUEST_ID)
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .setDockerfileDirectory("hello")
                        // Aliases on purpose: the farm normalises them.
                        .addAllPlatforms(List.of("amd64", "aarch64", "linux/arm/v7", "armel"))
                        .setRepository(REPOSITORY)
                        .addTags("main")
                        .addTags("v1"))
                .build();
        submitted = Farm.builds().submitBuild(request);
        build = Farm.awaitFinal(submitted.getName(), Duration.ofMinutes(15));
    }

    @Test
    void submissionIsAcceptedWithTheResolvedCommitAndNormalisedPlatforms() {
        assertThat(submitted.getState()).isEqualTo(Build.State.QUEUED);
        assertThat(submitted.getCommit()).isEqualTo(repo.commit());
        assertThat(submitted.getSpec().getPlatformsList()).containsExactlyElementsOf(PLATFORMS);
        assertThat(submitted.getSpec().getDockerfileName()).isEqualTo("Dockerfile");
    }

    @Test
    void buildSucceedsWithAnAgentDigestAndModePerPlatform() {
        assertThat(build.getState()).as(build.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        assertThat(build.getIndexDigest()).startsWith("sha256:");
        Platform host = Platform.fromMachine(System.getProperty("os.arch")).orElseThrow();
        assertThat(build.getPlatformBuildsList()).extracting(PlatformBuild::getPlatform).containsExactlyElementsOf(PLATFORMS);
        for (PlatformBuild pb : build.getPlatformBuildsList()) {
            assertThat(pb.getState()).isEqualTo(Build.State.SUCCEEDED);
            assertThat(pb.getDigest()).startsWith("sha256:");
            assertThat(pb.getAgent()).isNotBlank();
            assertThat(pb.getAttempt()).isEqualTo(1);
            assertThat(pb.getEmulated()).as(pb.getPlatform()).isEqualTo(!Platform.parse(pb.getPlatform()).equals(host));
        }
    }

    @Test
    void everyTagIsAnIndexOfExactlyTheFourPlatformsWithMatchingChildren() throws Exception {
        Map<String, String> digestByPlatform = new HashMap<>();
        build.getPlatformBuildsList().forEach(pb -> digestByPlatform.put(pb.getPlatform(), pb.getDigest()));

        for (String tag : List.of("main", "v1")) {
            Registry.Document index = Registry.manifest(REPOSITORY_PATH, tag);
            assertThat(index).as("tag " + tag).isNotNull();
            assertThat(index.digest()).isEqualTo(build.getIndexDigest());
            assertThat(index.json().path("mediaType").asText()).isEqualTo(Registry.OCI_INDEX);
            assertThat(index.json().path("annotations").path("org.opencontainers.image.revision").asText()).isEqualTo(repo.commit());

            Map<String, String> indexed = new HashMap<>();
            for (JsonNode child : index.json().path("manifests")) {
                JsonNode p = child.path("platform");
                String platform = new Platform(p.path("os").asText(), p.path("architecture").asText(), p.path("variant").asText()).toString();
                indexed.put(platform, child.path("digest").asText());

                Registry.Document manifest = Registry.manifest(REPOSITORY_PATH, child.path("digest").asText());
                assertThat(manifest.digest()).isEqualTo(child.path("digest").asText());
                JsonNode config = Registry.blob(REPOSITORY_PATH, manifest.json().path("config").path("digest").asText());
                assertThat(config.path("os").asText()).isEqualTo(p.path("os").asText());
                assertThat(config.path("architecture").asText()).isEqualTo(p.path("architecture").asText());
                assertThat(config.path("variant").asText("")).isEqualTo(p.path("variant").asText(""));
            }
            assertThat(indexed).isEqualTo(digestByPlatform);
        }
    }

    @Test
    void theRepositoryGainsOnlyTheRequestedTags() throws Exception {
        List<String> tags = new java.util.ArrayList<>();
        Registry.tags(REPOSITORY_PATH).path("tags").forEach(t -> tags.add(t.asText()));
        assertThat(tags).containsExactlyInAnyOrder("main", "v1");
    }

    @Test
    void eachArchitecturePullsAndRunsItsOwnVariant() throws Exception {
        for (String platform : PLATFORMS) {
            assertThat(Docker.pullAndRun(platform, REPOSITORY + ":main")).as(platform).startsWith(Farm.HELLO_OUTPUT.get(platform));
        }
    }

    @Test
    void theSameRequestIdGivesTheSameBuild() {
        Build again = Farm.builds().submitBuild(request);
        assertThat(again.getName()).isEqualTo(submitted.getName());
        assertThat(again.getCreateTime()).isEqualTo(submitted.getCreateTime());
    }
}
