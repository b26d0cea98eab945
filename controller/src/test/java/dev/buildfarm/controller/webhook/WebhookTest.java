package dev.buildfarm.controller.webhook;

import static dev.buildfarm.controller.rules.ControllerApi.SECRET;
import static dev.buildfarm.controller.rules.ControllerApi.uniqueId;
import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.DeleteBuildRuleRequest;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.api.v1.UpdateBuildRuleRequest;
import dev.buildfarm.api.v1.UpdateRepositoryRequest;
import dev.buildfarm.controller.rules.ControllerApi;
import dev.buildfarm.controller.rules.GitFixture;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Push webhooks over real HTTP, for commits really pushed to the stack's git server. */
@QuarkusTest
class WebhookTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final long PUSHED_AT = 1602749580L; // 2020-10-15T08:13:00Z, 16:13 in UTC+8
    private static GitFixture git;
    private static String releaseV1;
    private static String[] releaseTag;

    private ControllerApi api;
    private String repositoryId;

    @BeforeAll
    static void pushCommits() throws Exception {
        git = GitFixture.create();
        releaseV1 = git.commit("release-v1");
        releaseTag = git.annotatedTag("release-11-2-10");
    }

    @AfterAll
    static void removeRepository() throws Exception {
        git.close();
    }

    @BeforeEach
    void repository() {
        api = new ControllerApi();
        repositoryId = uniqueId("hook");
        api.createRepository(repositoryId, git.url);
    }

    @AfterEach
    void close() throws Exception {
        api.close();
    }

    private BuildRule releaseBranches() {
        return api.createRule(repositoryId, "releases", BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH)
                .setRefPattern("release-(?<imageTag>\\w*)")
                .addTags(TagConfig.newBuilder().setTemplate("${imageTag}"))
                .addPlatforms("linux/amd64").addPlatforms("linux/arm64").build());
    }

    private BuildRule versionTags() {
        return api.createRule(repositoryId, "versions", BuildRule.newBuilder().setRefType(BuildRule.RefType.TAG)
                .setRefPattern("release-(?<major>\\d*)-(?<minor>\\d*)-(?<version>\\d*)")
                .addTags(TagConfig.newBuilder().setTemplate("${major}.${minor}.${version}"))
                .addTags(TagConfig.newBuilder().setTemplate("${major}.${minor}.${version}").setBuildTimeFormat("yyyyMMddHHmm")
                        .setCommitIdSuffix(true).setCommitIdLength(8))
                .addPlatforms("linux/arm/v7").addPlatforms("linux/arm/v6").build());
    }

    private static String githubPush(String ref, String after) {
        return "{\"ref\":\"" + ref + "\",\"before\":\"" + "0".repeat(40) + "\",\"after\":\"" + after
                + "\",\"created\":true,\"deleted\":false,\"head_commit\":{\"id\":\"" + after
                + "\"},\"repository\":{\"full_name\":\"team/app\",\"pushed_at\":" + PUSHED_AT + "}}";
    }

    private HttpResponse<String> post(String repository, String body, String... headers) throws Exception {
        return post(repository, body.getBytes(StandardCharsets.UTF_8), headers);
    }

    private HttpResponse<String> post(String repository, byte[] body, String... headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + api.port + "/webhooks/" + repository))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            request.setHeader(headers[i], headers[i + 1]);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> github(String body, String delivery) throws Exception {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return post(repositoryId, bytes, "X-GitHub-Event", "push", "X-GitHub-Delivery", delivery,
                "X-Hub-Signature-256", WebhookSignatures.githubHeader(bytes, SECRET));
    }

    private HttpResponse<String> gitea(String body, String signature) throws Exception {
        List<String> headers = new ArrayList<>(List.of("X-Gitea-Event", "push", "X-Gitea-Delivery", UUID.randomUUID().toString(),
                "X-GitHub-Event", "push"));
        if (signature != null) {
            headers.addAll(List.of("X-Gitea-Signature", signature));
        }
        return post(repositoryId, body, headers.toArray(String[]::new));
    }

    private static JsonObject json(HttpResponse<String> response) {
        return new JsonObject(response.body());
    }

    @Test
    void githubPushOfAMatchingBranchBuildsThatCommitOnce() throws Exception {
        BuildRule rule = releaseBranches();
        versionTags(); // a TAG rule: a branch push never fires it
        String delivery = UUID.randomUUID().toString();
        String body = githubPush("refs/heads/release-v1", releaseV1);

        HttpResponse<String> response = github(body, delivery);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        JsonObject answer = json(response);
        assertThat(answer.getJsonArray("builds")).hasSize(1);
        JsonObject started = answer.getJsonArray("builds").getJsonObject(0);
        assertThat(started.getString("rule")).isEqualTo(rule.getName());
        assertThat(started.getJsonArray("tags").getList()).containsExactly("v1");

        Build build = api.builds.getBuild(GetBuildRequest.newBuilder().setName(started.getString("build")).build());
        assertThat(build.getCommit()).isEqualTo(releaseV1);
        assertThat(build.getSpec().getSource().getCommit()).isEqualTo(releaseV1);
        assertThat(build.getSpec().getSource().getRef()).isEmpty();
        assertThat(build.getSpec().getSource().getUrl()).isEqualTo(git.url);
        assertThat(build.getSpec().getTagsList()).containsExactly("v1");
        assertThat(build.getSpec().getRepository()).isEqualTo(ControllerApi.IMAGE);
        assertThat(build.getSpec().getPlatformsList()).containsExactly("linux/amd64", "linux/arm64");
        Trigger trigger = build.getTrigger();
        assertThat(trigger.getKind()).isEqualTo(Trigger.Kind.PUSH);
        assertThat(trigger.getRule()).isEqualTo(rule.getName());
        assertThat(trigger.getRef()).isEqualTo("refs/heads/release-v1");
        assertThat(trigger.getEventId()).isEqualTo(delivery);
        assertThat(trigger.getEventTime().getSeconds()).isEqualTo(PUSHED_AT);

        // GitHub redelivers with the same delivery id: nothing new.
        HttpResponse<String> again = github(body, delivery);
        assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
        assertThat(json(again).getJsonArray("builds")).isEmpty();
        assertThat(json(again).getJsonArray("existing").getJsonObject(0).getString("build")).isEqualTo(build.getName());
        assertThat(api.buildsOf(rule.getName())).extracting(Build::getName).containsExactly(build.getName());
    }

    @Test
    void gitlabTagPushRendersNamedGroupsAndSuffixes() throws Exception {
        BuildRule rule = versionTags();
        String tagObject = releaseTag[0];
        String commit = releaseTag[1];
        // GitLab: 'after' is the annotated tag's object, checkout_sha the commit it points at.
        String body = "{\"object_kind\":\"tag_push\",\"ref\":\"refs/tags/release-11-2-10\",\"before\":\"" + "0".repeat(40)
                + "\",\"after\":\"" + tagObject + "\",\"checkout_sha\":\"" + commit + "\",\"project\":{\"path_with_namespace\":\"team/app\"}}";
        HttpResponse<String> response = post(repositoryId, body, "X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Token", SECRET,
                "X-Gitlab-Event-UUID", "gl-" + repositoryId);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);

        List<Build> builds = api.buildsOf(rule.getName());
        assertThat(builds).hasSize(1);
        Build build = builds.get(0);
        // GitLab sends no push time: the time it was received, kept as the event time, in UTC+8.
        String time = DateTimeFormatter.ofPattern("yyyyMMddHHmm").withZone(ZoneOffset.ofHours(8))
                .format(Instant.ofEpochSecond(build.getTrigger().getEventTime().getSeconds()));
        assertThat(build.getSpec().getTagsList()).containsExactly("11.2.10", "11.2.10-" + time + "-" + commit.substring(0, 8));
        assertThat(build.getSpec().getSource().getCommit()).isEqualTo(commit);
        assertThat(build.getTrigger().getRef()).isEqualTo("refs/tags/release-11-2-10");
        assertThat(build.getTrigger().getEventId()).isEqualTo("gl-" + repositoryId);

        HttpResponse<String> wrongToken = post(repositoryId, body, "X-Gitlab-Event", "Tag Push Hook", "X-Gitlab-Token", "not-the-secret");
        assertThat(wrongToken.statusCode()).isEqualTo(401);
    }

    @Test
    void giteaSignatureIsCheckedAndAWrongOneBuildsNothing() throws Exception {
        BuildRule rule = releaseBranches();
        String body = githubPush("refs/heads/release-v1", releaseV1);
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> wrong = gitea(body, WebhookSignatures.giteaHeader(bytes, "some-other-secret"));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(json(wrong).getString("error")).contains("X-Gitea-Signature");
        assertThat(gitea(body, null).statusCode()).as("missing signature").isEqualTo(401);
        HttpResponse<String> githubStyle = post(repositoryId, body, "X-GitHub-Event", "push",
                "X-Hub-Signature-256", WebhookSignatures.githubHeader(bytes, "some-other-secret"));
        assertThat(githubStyle.statusCode()).isEqualTo(401);
        assertThat(api.buildsOf(rule.getName())).isEmpty();

        HttpResponse<String> right = gitea(body, WebhookSignatures.giteaHeader(bytes, SECRET));
        assertThat(right.statusCode()).as(right.body()).isEqualTo(202);
        assertThat(api.buildsOf(rule.getName())).hasSize(1);
    }

    @Test
    void ruleChangesApplyToTheNextPush() throws Exception {
        BuildRule rule = releaseBranches();
        assertThat(github(githubPush("refs/heads/release-v1", releaseV1), "c1").statusCode()).isEqualTo(202);

        api.rules.updateBuildRule(UpdateBuildRuleRequest.newBuilder().setRule(BuildRule.newBuilder().setName(rule.getName())
                .setRefPattern("release-(?<imageTag>\\d+)")).build());
        String next = git.commit("release-v1");
        HttpResponse<String> noLongerMatching = github(githubPush("refs/heads/release-v1", next), "c2");
        assertThat(noLongerMatching.statusCode()).as(noLongerMatching.body()).isEqualTo(200);
        assertThat(json(noLongerMatching).getJsonArray("builds")).isEmpty();

        BuildRule added = api.createRule(repositoryId, "v-branches", BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH)
                .setRefPattern("release-v(?<n>\\d+)").addTags(TagConfig.newBuilder().setTemplate("r${n}")).addPlatforms("linux/amd64").build());
        HttpResponse<String> matchingNew = github(githubPush("refs/heads/release-v1", next), "c3");
        assertThat(matchingNew.statusCode()).as(matchingNew.body()).isEqualTo(202);
        assertThat(json(matchingNew).getJsonArray("builds").getJsonObject(0).getString("rule")).isEqualTo(added.getName());
        assertThat(json(matchingNew).getJsonArray("builds").getJsonObject(0).getJsonArray("tags").getList()).containsExactly("r1");

        api.rules.deleteBuildRule(DeleteBuildRuleRequest.newBuilder().setName(added.getName()).build());
        String after = git.commit("release-v1");
        HttpResponse<String> deletedRule = github(githubPush("refs/heads/release-v1", after), "c4");
        assertThat(deletedRule.statusCode()).as(deletedRule.body()).isEqualTo(200);
        assertThat(json(deletedRule).getJsonArray("builds")).isEmpty();
    }

    @Test
    void githubFormEncodedPushIsReadToo() throws Exception {
        BuildRule rule = releaseBranches();
        byte[] form = ("payload=" + java.net.URLEncoder.encode(githubPush("refs/heads/release-v1", releaseV1), StandardCharsets.UTF_8))
                .getBytes(StandardCharsets.US_ASCII);
        HttpResponse<String> response = post(repositoryId, form, "Content-Type", "application/x-www-form-urlencoded",
                "X-GitHub-Event", "push", "X-Hub-Signature-256", WebhookSignatures.githubHeader(form, SECRET));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        assertThat(api.buildsOf(rule.getName())).hasSize(1);
    }

    @Test
    void pushesThatMatchNothingBuildNothing() throws Exception {
        BuildRule rule = releaseBranches();
        HttpResponse<String> otherBranch = github(githubPush("refs/heads/main", git.head("main")), "d1");
        assertThat(otherBranch.statusCode()).isEqualTo(200);
        assertThat(json(otherBranch).getJsonArray("builds")).isEmpty();
        assertThat(json(otherBranch).getString("message")).contains("no rule");

        // A tag named like a matching branch: the rule is for branches.
        HttpResponse<String> tag = github(githubPush("refs/tags/release-v1", releaseV1), "d2");
        assertThat(json(tag).getJsonArray("builds")).isEmpty();

        String deleted = "{\"ref\":\"refs/heads/release-v1\",\"before\":\"" + releaseV1 + "\",\"after\":\"" + "0".repeat(40)
                + "\",\"deleted\":true,\"head_commit\":null}";
        HttpResponse<String> deletion = github(deleted, "d3");
        assertThat(deletion.statusCode()).isEqualTo(200);
        assertThat(json(deletion).getString("message")).contains("deleted");

        byte[] ping = "{\"zen\":\"Keep it logically awesome.\"}".getBytes(StandardCharsets.UTF_8);
        HttpResponse<String> pingResponse = post(repositoryId, ping, "X-GitHub-Event", "ping",
                "X-Hub-Signature-256", WebhookSignatures.githubHeader(ping, SECRET));
        assertThat(pingResponse.statusCode()).isEqualTo(200);

        api.rules.updateRepository(UpdateRepositoryRequest.newBuilder()
                .setRepository(Repository.newBuilder().setName("repositories/" + repositoryId).setAutoBuild(false)).build());
        HttpResponse<String> off = github(githubPush("refs/heads/release-v1", releaseV1), "d4");
        assertThat(off.statusCode()).isEqualTo(200);
        assertThat(json(off).getString("message")).contains("automatic builds are off");

        assertThat(api.buildsOf(rule.getName())).isEmpty();
    }

    @Test
    void badCallsAreRefusedWithTheirStatus() throws Exception {
        BuildRule rule = releaseBranches();
        HttpResponse<String> malformed = github("{\"ref\": ", "m1");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(json(malformed).getString("error")).contains("not JSON");
        assertThat(github("{\"ref\":\"refs/heads/release-v1\",\"after\":\"nope\"}", "m2").statusCode()).isEqualTo(400);
        assertThat(post(repositoryId, "{}").statusCode()).as("no event header").isEqualTo(400);
        assertThat(post("no-such-repository", "{}", "X-GitHub-Event", "push").statusCode()).isEqualTo(404);

        byte[] huge = new byte[6 * 1024 * 1024];
        java.util.Arrays.fill(huge, (byte) ' ');
        assertThat(post(repositoryId, huge, "X-GitHub-Event", "push", "X-Hub-Signature-256",
                WebhookSignatures.githubHeader(huge, SECRET)).statusCode()).isEqualTo(413);
        assertThat(api.buildsOf(rule.getName())).isEmpty();
    }

    @Test
    void aRenderedTagBreakingTheGrammarRefusesThatBuildWithTheReason() throws Exception {
        BuildRule anyBranch = api.createRule(repositoryId, "any", BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH)
                .setRefPattern("(?<name>.+)").addTags(TagConfig.newBuilder().setTemplate("${name}")).addPlatforms("linux/amd64").build());
        String commit = git.commit("feature/login");
        HttpResponse<String> response = github(githubPush("refs/heads/feature/login", commit), "r1");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonObject refused = json(response).getJsonArray("refused").getJsonObject(0);
        assertThat(refused.getString("rule")).isEqualTo(anyBranch.getName());
        assertThat(refused.getString("reason")).contains("'feature/login'").contains("OCI tag grammar");
        // The refusal is on record: a FAILED build of the rule with the reason, nothing queued.
        List<Build> builds = api.buildsOf(anyBranch.getName());
        assertThat(builds).hasSize(1);
        assertThat(builds.get(0).getName()).isEqualTo(refused.getString("build"));
        assertThat(builds.get(0).getState()).isEqualTo(Build.State.FAILED);
        assertThat(builds.get(0).getFailureReason()).contains("OCI tag grammar");
        assertThat(builds.get(0).getPlatformBuildsList()).allSatisfy(pb -> assertThat(pb.getAttempt()).isZero());
    }
}
