package dev.buildfarm.controller.webhook;

import static dev.buildfarm.controller.rules.ControllerApi.SECRET;
import static dev.buildfarm.controller.rules.ControllerApi.uniqueId;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.FieldMask;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceBinding;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.api.v1.UpdateRepositoryRequest;
import dev.buildfarm.controller.rules.ControllerApi;
import dev.buildfarm.controller.rules.GitFixture;
import dev.buildfarm.controller.rules.RuleFiring.Outcome;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The poller against the real git server: first look records, later looks fire moved refs once. */
@QuarkusTest
class SourcePollerTest {

    @Inject
    SourcePoller poller;

    @Test
    void firesRulesForRefsThatAppearOrMoveAndOnlyOnce() throws Exception {
        try (GitFixture git = GitFixture.create(); ControllerApi api = new ControllerApi()) {
            git.commit("release-v1");
            String repositoryId = uniqueId("poll");
            api.createRepository(repositoryId, git.url);
            BuildRule rule = api.createRule(repositoryId, "releases", BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH)
                    .setRefPattern("release-(?<imageTag>\\w*)")
                    .addTags(TagConfig.newBuilder().setTemplate("${imageTag}").setCommitIdSuffix(true))
                    .addPlatforms("linux/amd64").build());

            assertThat(poller.poll(repositoryId)).as("the first look only records the refs").isEmpty();

            String moved = git.commit("release-v1");
            String created = git.commit("release-v2");
            git.commit("main");
            List<Outcome> outcomes = poller.poll(repositoryId);
            assertThat(outcomes).extracting(Outcome::result).containsOnly(Outcome.Result.STARTED);
            assertThat(outcomes).extracting(o -> o.tags().get(0))
                    .containsExactlyInAnyOrder("v1-" + moved.substring(0, 6), "v2-" + created.substring(0, 6));

            List<Build> builds = api.buildsOf(rule.getName());
            assertThat(builds).hasSize(2);
            assertThat(builds).allSatisfy(b -> assertThat(b.getTrigger().getKind()).isEqualTo(Trigger.Kind.POLL));
            assertThat(builds).extracting(b -> b.getSpec().getSource().getCommit()).containsExactlyInAnyOrder(moved, created);

            assertThat(poller.poll(repositoryId)).as("nothing moved").isEmpty();

            // A webhook for a commit the poller already built starts nothing new.
            byte[] body = ("{\"ref\":\"refs/heads/release-v2\",\"after\":\"" + created + "\"}").getBytes(StandardCharsets.UTF_8);
            HttpResponse<String> push = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + api.port + "/webhooks/" + repositoryId))
                    .header("X-GitHub-Event", "push").header("X-Hub-Signature-256", WebhookSignatures.githubHeader(body, SECRET))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(push.statusCode()).as(push.body()).isEqualTo(200);
            assertThat(api.buildsOf(rule.getName())).hasSize(2);

            // Bound to another source, the poller looks afresh instead of building all its refs as "moved".
            try (GitFixture other = GitFixture.create()) {
                other.commit("release-v3");
                api.rules.updateRepository(UpdateRepositoryRequest.newBuilder().setRepository(Repository.newBuilder()
                        .setName("repositories/" + repositoryId).setSource(SourceBinding.newBuilder().setUrl(other.url)))
                        .setUpdateMask(FieldMask.newBuilder().addPaths("source.url")).build());
                assertThat(poller.poll(repositoryId)).isEmpty();
                String v3 = other.commit("release-v3");
                assertThat(poller.poll(repositoryId)).extracting(o -> o.tags().get(0)).containsExactly("v3-" + v3.substring(0, 6));
            }
        }
    }
}
