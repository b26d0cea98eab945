package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * One platform's Dockerfile step fails: by default the build fails and no tag appears; with
 * publish_partial the tag is an index of the platforms that built, which names the one missing.
 */
class FailurePolicyTest {

    /** Fails on arm/v7 only, through the platform argument every build gets. */
    private static final String FAILS_ON_ARMV7 = """
            FROM 127.0.0.1:5000/library/busybox:latest
            ARG TARGETPLATFORM
            RUN echo "building for $TARGETPLATFORM" && test "$TARGETPLATFORM" != "linux/arm/v7"
            RUN echo "$TARGETPLATFORM" > /platform
            CMD ["cat", "/platform"]
            """;

    private static Build build(String path, boolean publishPartial) throws Exception {
        GitFixtures.Repo repo = GitFixtures.publishFiles(Map.of("Dockerfile", FAILS_ON_ARMV7));
        Build build = Farm.builds().submitBuild(SubmitBuildRequest.newBuilder()
                .setRequestId("policy-" + UUID.randomUUID())
                .setSpec(BuildSpec.newBuilder()
                        .setSource(GitSource.newBuilder().setUrl(repo.url()).setRef("main"))
                        .addPlatforms("linux/amd64").addPlatforms("linux/arm/v7")
                        .setRepository(Farm.REGISTRY + "/" + path)
                        .addTags("latest")
                        .setPublishPartial(publishPartial))
                .build());
        return Farm.awaitFinal(build.getName(), Duration.ofMinutes(5));
    }

    private static PlatformBuild platform(Build build, String platform) {
        return build.getPlatformBuildsList().stream().filter(pb -> pb.getPlatform().equals(platform)).findFirst().orElseThrow();
    }

    @Test
    void byDefaultAFailedPlatformFailsTheBuildAndNothingIsPublished() throws Exception {
        String path = "e2e/policy-default-" + UUID.randomUUID().toString().substring(0, 8);
        Build done = build(path, false);

        assertThat(done.getState()).isEqualTo(Build.State.FAILED);
        assertThat(done.getFailureReason()).startsWith("linux/arm/v7: ");
        assertThat(platform(done, "linux/arm/v7").getState()).isEqualTo(Build.State.FAILED);
        assertThat(done.getIndexDigest()).isEmpty();
        assertThat(Registry.manifest(path, "latest")).isNull();
        assertThat(Registry.tags(path).path("tags").size()).isZero();
    }

    @Test
    void publishPartialPublishesThePlatformsThatBuiltAndNamesTheMissingOne() throws Exception {
        String path = "e2e/policy-partial-" + UUID.randomUUID().toString().substring(0, 8);
        Build done = build(path, true);

        assertThat(done.getState()).isEqualTo(Build.State.SUCCEEDED);
        assertThat(done.getMissingPlatformsList()).containsExactly("linux/arm/v7");
        assertThat(platform(done, "linux/arm/v7").getState()).isEqualTo(Build.State.FAILED);
        assertThat(platform(done, "linux/arm/v7").getFailureReason()).isNotEmpty();

        Registry.Document index = Registry.manifest(path, "latest");
        assertThat(index).isNotNull();
        assertThat(index.digest()).isEqualTo(done.getIndexDigest());
        assertThat(index.json().path("annotations").path("dev.buildfarm.missing-platforms").asText()).isEqualTo("linux/arm/v7");
        List<String> platforms = new ArrayList<>();
        for (JsonNode child : index.json().path("manifests")) {
            JsonNode p = child.path("platform");
            platforms.add(p.path("os").asText() + "/" + p.path("architecture").asText());
        }
        assertThat(platforms).containsExactly("linux/amd64");
        assertThat(Docker.pullAndRun("linux/amd64", Farm.REGISTRY + "/" + path + ":latest").trim()).isEqualTo("linux/amd64");
    }
}
