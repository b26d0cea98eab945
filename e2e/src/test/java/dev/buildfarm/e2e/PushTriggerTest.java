package dev.buildfarm.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildRuleServiceGrpc;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceBinding;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.api.v1.Trigger;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The seed's rule model end to end: a real git server, real commits, a signed push webhook, and the
 * rendered tag appearing in the registry as a multi-arch index that runs per architecture.
 */
class PushTriggerTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET = "s3cret-" + UUID.randomUUID();
    private static final String ID = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String IMAGE_PATH = "e2e/rules-" + ID;

    private static GitFixtures.Repo repo;
    private static String webhookPath;

    @BeforeAll
    static void repositoryWithRules() throws Exception {
        repo = GitFixtures.publish(Farm.EXAMPLES);
        try (Git git = Git.open(Farm.GIT_BASE.resolve(repo.url().substring(repo.url().lastIndexOf('/') + 1)).toFile())) {
            git.branchCreate().setName("release-v1").call();
            git.tag().setName("release-11-2-10").setAnnotated(true).setMessage("release").call();
        }
        BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules = BuildRuleServiceGrpc.newBlockingStub(Farm.channel());
        Repository repository = rules.createRepository(CreateRepositoryRequest.newBuilder()
                .setRepositoryId(ID)
                .setRepository(Repository.newBuilder()
                        .setImage(Farm.REGISTRY + "/" + IMAGE_PATH)
                        .setSource(SourceBinding.newBuilder().setUrl(repo.url()).setWebhookSecret(SECRET)))
                .build());
        webhookPath = repository.getWebhookPath();
        rules.createBuildRule(CreateBuildRuleRequest.newBuilder()
                .setParent(repository.getName()).setRuleId("release-branches")
                .setRule(BuildRule.newBuilder()
                        .setRefType(BuildRule.RefType.BRANCH)
                        .setRefPattern("release-(?<imageTag>\\w*)")
                        .setDockerfileDirectory("hello")
                        .addTags(TagConfig.newBuilder().setTemplate("${imageTag}"))
                        .addPlatforms("linux/amd64").addPlatforms("linux/arm/v7"))
                .build());
        rules.createBuildRule(CreateBuildRuleRequest.newBuilder()
                .setParent(repository.getName()).setRuleId("release-tags")
                .setRule(BuildRule.newBuilder()
                        .setRefType(BuildRule.RefType.TAG)
                        .setRefPattern("release-(?<major>\\d*)-(?<minor>\\d*)-(?<version>\\d*)")
                        .setDockerfileDirectory("hello")
                        .addTags(TagConfig.newBuilder().setTemplate("${major}.${minor}.${version}"))
                        .addTags(TagConfig.newBuilder().setTemplate("${major}.${minor}.${version}").setCommitIdSuffix(true))
                        .addPlatforms("linux/arm64"))
                .build());
    }

    @Test
    void pushingReleaseV1BuildsTagV1AsAMultiArchIndex() throws Exception {
        HttpResponse<String> answer = push("refs/heads/release-v1", SECRET);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        JsonNode started = JSON.readTree(answer.body()).path("builds").get(0);
        assertThat(started.path("tags")).extracting(JsonNode::asText).containsExactly("v1");

        Build build = Farm.awaitFinal(started.path("build").asText(), Duration.ofMinutes(10));
        assertThat(build.getState()).as(build.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        assertThat(build.getCommit()).isEqualTo(repo.commit());
        assertThat(build.getTrigger().getKind()).isEqualTo(Trigger.Kind.PUSH);
        assertThat(build.getTrigger().getRef()).isEqualTo("refs/heads/release-v1");

        Registry.Document index = Registry.manifest(IMAGE_PATH, "v1");
        assertThat(index.digest()).isEqualTo(build.getIndexDigest());
        assertThat(index.json().path("manifests")).hasSize(2);
        assertThat(Docker.pullAndRun("linux/arm/v7", Farm.REGISTRY + "/" + IMAGE_PATH + ":v1"))
                .startsWith("Hello, arm! (built for linux/arm/v7");

        // The same push delivered again builds nothing new.
        HttpResponse<String> again = push("refs/heads/release-v1", SECRET);
        assertThat(again.statusCode()).isEqualTo(200);
    }

    @Test
    void pushingTagRelease11210RendersTheVersionAndTheCommitSuffix() throws Exception {
        HttpResponse<String> answer = push("refs/tags/release-11-2-10", SECRET);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
        JsonNode started = JSON.readTree(answer.body()).path("builds").get(0);
        String withCommit = "11.2.10-" + repo.commit().substring(0, 6);
        assertThat(started.path("tags")).extracting(JsonNode::asText).containsExactly("11.2.10", withCommit);

        Build build = Farm.awaitFinal(started.path("build").asText(), Duration.ofMinutes(10));
        assertThat(build.getState()).as(build.getFailureReason()).isEqualTo(Build.State.SUCCEEDED);
        for (String tag : List.of("11.2.10", withCommit)) {
            assertThat(Registry.manifest(IMAGE_PATH, tag).digest()).isEqualTo(build.getIndexDigest());
        }
    }

    @Test
    void aWrongSignatureBuildsNothing() throws Exception {
        long before = buildsOfThisRepository();
        HttpResponse<String> answer = push("refs/heads/release-v2", "not-the-secret");
        assertThat(answer.statusCode()).isEqualTo(401);
        assertThat(buildsOfThisRepository()).isEqualTo(before);
    }

    private static long buildsOfThisRepository() {
        return Farm.builds().listBuilds(ListBuildsRequest.newBuilder()
                .setRepository(Farm.REGISTRY + "/" + IMAGE_PATH).setPageSize(100).build()).getBuildsCount();
    }

    /** A GitHub push event for the fixture's commit, signed with the given secret. */
    private static HttpResponse<String> push(String ref, String secret) throws Exception {
        return GitHubPush.send(webhookPath, ref, repo.commit(), 1602749580L, secret);
    }
}
