package dev.buildfarm.controller.rules;

import static dev.buildfarm.controller.rules.ControllerApi.badRequest;
import static dev.buildfarm.controller.rules.ControllerApi.errorInfo;
import static dev.buildfarm.controller.rules.ControllerApi.uniqueId;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildParameter;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.DeleteBuildRuleRequest;
import dev.buildfarm.api.v1.DeleteRepositoryRequest;
import dev.buildfarm.api.v1.GetBuildRuleRequest;
import dev.buildfarm.api.v1.GetRepositoryRequest;
import dev.buildfarm.api.v1.ListBuildRulesRequest;
import dev.buildfarm.api.v1.ListBuildRulesResponse;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.RunBuildRuleRequest;
import dev.buildfarm.api.v1.SourceBinding;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.api.v1.UpdateBuildRuleRequest;
import dev.buildfarm.api.v1.UpdateRepositoryRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The BuildRuleService over real gRPC, against the real database and a real git server. */
@QuarkusTest
class BuildRuleApiTest {

    private static GitFixture git;
    private ControllerApi api;
    private String repositoryId;

    @BeforeAll
    static void gitServer() throws Exception {
        git = GitFixture.create();
    }

    @AfterAll
    static void removeRepository() throws Exception {
        git.close();
    }

    @BeforeEach
    void repository() {
        api = new ControllerApi();
        repositoryId = uniqueId("api");
        api.createRepository(repositoryId, git.url);
    }

    @AfterEach
    void close() throws Exception {
        api.close();
    }

    private static BuildRule.Builder mainRule() {
        return BuildRule.newBuilder().setRefType(BuildRule.RefType.BRANCH).setRefPattern("main")
                .addTags(TagConfig.newBuilder().setTemplate("latest"))
                .addTags(TagConfig.newBuilder().setTemplate("main"))
                .addPlatforms("linux/amd64").addPlatforms("linux/arm/v7")
                .addBuildParameters(BuildParameter.newBuilder().setKey("VERSION").setValue("1"))
                .setNoCache(true);
    }

    private static BuildRule.Builder releaseRule() {
        return BuildRule.newBuilder().setRefType(BuildRule.RefType.TAG)
                .setRefPattern("release-(?<major>\\d*)-(?<minor>\\d*)-(?<version>\\d*)")
                .addTags(TagConfig.newBuilder().setTemplate("${major}.${minor}.${version}"))
                .addPlatforms("linux/amd64");
    }

    private String parent() {
        return "repositories/" + repositoryId;
    }

    private static StatusRuntimeException error(Executable call) {
        return catchThrowableOfType(StatusRuntimeException.class, call::execute);
    }

    @Test
    void repositoryNeverReturnsItsSecrets() {
        Repository repository = api.rules.getRepository(GetRepositoryRequest.newBuilder().setName(parent()).build());
        assertThat(repository.getName()).isEqualTo(parent());
        assertThat(repository.getImage()).isEqualTo(ControllerApi.IMAGE);
        assertThat(repository.getSource().getUrl()).isEqualTo(git.url);
        assertThat(repository.getSource().getWebhookSecret()).isEmpty();
        assertThat(repository.getSource().getWebhookSecretSet()).isTrue();
        assertThat(repository.getSource().getCredentialsSet()).isFalse();
        assertThat(repository.getAutoBuild()).isTrue();
        assertThat(repository.getWebhookPath()).isEqualTo("/webhooks/" + repositoryId);

        Repository updated = api.rules.updateRepository(UpdateRepositoryRequest.newBuilder()
                .setRepository(Repository.newBuilder().setName(parent()).setSource(SourceBinding.newBuilder()
                        .setCredentials(SourceCredentials.newBuilder().setUsername("ci").setPassword("token-123"))))
                .setUpdateMask(FieldMask.newBuilder().addPaths("source.credentials"))
                .build());
        assertThat(updated.getSource().getCredentialsSet()).isTrue();
        assertThat(updated.getSource().getCredentials().getPassword()).isEmpty();
        assertThat(updated.getSource().getWebhookSecretSet()).as("untouched by the mask").isTrue();
        assertThat(updated.getSource().getUrl()).isEqualTo(git.url);
    }

    @Test
    void repositoryCreateIsValidatedAndUnique() {
        StatusRuntimeException duplicate = error(() -> api.createRepository(repositoryId, git.url));
        assertThat(duplicate.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);

        String id = uniqueId("bad");
        StatusRuntimeException invalid = error(() -> api.rules.createRepository(CreateRepositoryRequest.newBuilder()
                .setRepositoryId(id).setRepository(Repository.newBuilder().setImage("127.0.0.1:5000/Upper/Case")
                        .setSource(SourceBinding.newBuilder().setUrl("ftp://example.com/x.git").setWebhookSecret("short")))
                .build()));
        assertThat(invalid.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(badRequest(invalid).getFieldViolationsList()).extracting(v -> v.getField())
                .containsExactlyInAnyOrder("repository.image", "repository.source.url", "repository.source.webhook_secret");
        assertThat(error(() -> api.rules.getRepository(GetRepositoryRequest.newBuilder().setName("repositories/" + id).build()))
                .getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);

        StatusRuntimeException noNamespace = error(() -> api.rules.createRepository(CreateRepositoryRequest.newBuilder()
                .setRepositoryId(id).setRepository(Repository.newBuilder().setImage("127.0.0.1:5000/app")
                        .setSource(SourceBinding.newBuilder().setUrl("https://example.com/x.git")))
                .build()));
        assertThat(badRequest(noNamespace).getFieldViolationsList()).singleElement()
                .satisfies(v -> assertThat(v.getField()).isEqualTo("repository.image"))
                .satisfies(v -> assertThat(v.getDescription()).contains("has no namespace"));

        assertThat(error(() -> api.createRepository("Not_An_Id", git.url)).getStatus().getDescription())
                .startsWith("repository_id: ");
    }

    @Test
    void ruleLifecycle() {
        BuildRule created = api.createRule(repositoryId, "main", mainRule().build());
        assertThat(created.getName()).isEqualTo(parent() + "/rules/main");
        assertThat(created.getUid()).isNotEmpty();
        assertThat(created.getDockerfileName()).isEqualTo("Dockerfile");
        assertThat(created.getTimeZone()).isEqualTo("+08:00");
        assertThat(created.getSystemTriggerOnly()).isFalse();
        api.createRule(repositoryId, "releases", releaseRule().build());
        assertThat(api.rules.getBuildRule(GetBuildRuleRequest.newBuilder().setName(created.getName()).build())).isEqualTo(created);

        ListBuildRulesResponse first = api.rules.listBuildRules(ListBuildRulesRequest.newBuilder().setParent(parent()).setPageSize(1).build());
        assertThat(first.getRulesList()).extracting(BuildRule::getName).containsExactly(parent() + "/rules/main");
        ListBuildRulesResponse second = api.rules.listBuildRules(ListBuildRulesRequest.newBuilder().setParent(parent()).setPageSize(1)
                .setPageToken(first.getNextPageToken()).build());
        assertThat(second.getRulesList()).extracting(BuildRule::getName).containsExactly(parent() + "/rules/releases");
        assertThat(second.getNextPageToken()).isEmpty();
        assertThat(second.getRules(0).getSystemTriggerOnly()).isTrue();

        BuildRule updated = api.rules.updateBuildRule(UpdateBuildRuleRequest.newBuilder()
                .setRule(BuildRule.newBuilder().setName(created.getName()).addTags(TagConfig.newBuilder().setTemplate("edge"))
                        .addPlatforms("windows/amd64"))
                .setUpdateMask(FieldMask.newBuilder().addPaths("tags"))
                .build());
        assertThat(updated.getTagsList()).extracting(TagConfig::getTemplate).containsExactly("edge");
        assertThat(updated.getPlatformsList()).as("not in the mask").containsExactly("linux/amd64", "linux/arm/v7");
        assertThat(updated.getUid()).isEqualTo(created.getUid());

        StatusRuntimeException badMask = error(() -> api.rules.updateBuildRule(UpdateBuildRuleRequest.newBuilder()
                .setRule(BuildRule.newBuilder().setName(created.getName())).setUpdateMask(FieldMask.newBuilder().addPaths("uid")).build()));
        assertThat(badRequest(badMask).getFieldViolations(0).getField()).isEqualTo("update_mask.paths[0]");

        StatusRuntimeException badUpdate = error(() -> api.rules.updateBuildRule(UpdateBuildRuleRequest.newBuilder()
                .setRule(BuildRule.newBuilder().setName(created.getName()).addTags(TagConfig.newBuilder().setTemplate("${nope}")))
                .build()));
        assertThat(badRequest(badUpdate).getFieldViolations(0).getField()).isEqualTo("rule.tags[0].template");
        assertThat(api.rules.getBuildRule(GetBuildRuleRequest.newBuilder().setName(created.getName()).build()).getTagsList())
                .as("a refused update changes nothing").extracting(TagConfig::getTemplate).containsExactly("edge");

        StatusRuntimeException hasRules = error(() -> api.rules.deleteRepository(DeleteRepositoryRequest.newBuilder().setName(parent()).build()));
        assertThat(hasRules.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);

        api.rules.deleteBuildRule(DeleteBuildRuleRequest.newBuilder().setName(created.getName()).build());
        assertThat(error(() -> api.rules.getBuildRule(GetBuildRuleRequest.newBuilder().setName(created.getName()).build()))
                .getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        api.rules.deleteRepository(DeleteRepositoryRequest.newBuilder().setName(parent()).setForce(true).build());
        assertThat(error(() -> api.rules.getBuildRule(GetBuildRuleRequest.newBuilder().setName(parent() + "/rules/releases").build()))
                .getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void badRulesAreRefusedNamingFieldAndRuleAndNothingIsStored() {
        StatusRuntimeException badRegex = error(() -> api.createRule(repositoryId, "bad", releaseRule()
                .setRefPattern("release-(?<major>\\d*").build()));
        assertThat(badRegex.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(badRequest(badRegex).getFieldViolations(0).getField()).isEqualTo("rule.ref_pattern");
        assertThat(badRegex.getStatus().getDescription()).contains("not a valid regular expression").contains("at index");

        StatusRuntimeException unknownGroup = error(() -> api.createRule(repositoryId, "bad", releaseRule()
                .setTags(0, TagConfig.newBuilder().setTemplate("${major}.${patch}")).build()));
        assertThat(unknownGroup.getStatus().getDescription()).contains("rule.tags[0].template").contains("${patch}");

        BuildRule.Builder many = mainRule().addTags(TagConfig.newBuilder().setTemplate("a")).addTags(TagConfig.newBuilder().setTemplate("b"))
                .addPlatforms("windows/amd64");
        IntStream.range(0, 20).forEach(i -> many.addBuildParameters(BuildParameter.newBuilder().setKey("K" + i)));
        StatusRuntimeException several = error(() -> api.createRule(repositoryId, "bad", many.build()));
        assertThat(badRequest(several).getFieldViolationsList()).extracting(v -> v.getField())
                .containsExactlyInAnyOrder("rule.tags", "rule.build_parameters", "rule.platforms[2]");

        assertThat(error(() -> api.createRule("no-such-repository", "x", mainRule().build())).getStatus().getCode())
                .isEqualTo(Status.Code.NOT_FOUND);
        assertThat(api.rules.listBuildRules(ListBuildRulesRequest.newBuilder().setParent(parent()).build()).getRulesList()).isEmpty();
    }

    @Test
    void runBuildRuleBuildsTheRefAtItsCurrentCommit() throws Exception {
        BuildRule rule = api.createRule(repositoryId, "main", mainRule().build());
        Build build = api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName(rule.getName()).build());

        assertThat(build.getState()).isEqualTo(Build.State.QUEUED);
        assertThat(build.getCommit()).isEqualTo(git.head("main"));
        assertThat(build.getSpec().getSource().getCommit()).isEqualTo(git.head("main"));
        assertThat(build.getSpec().getSource().getRef()).isEmpty();
        assertThat(build.getSpec().getSource().getUrl()).isEqualTo(git.url);
        assertThat(build.getSpec().getRepository()).isEqualTo(ControllerApi.IMAGE);
        assertThat(build.getSpec().getTagsList()).containsExactly("latest", "main");
        assertThat(build.getSpec().getPlatformsList()).containsExactly("linux/amd64", "linux/arm/v7");
        assertThat(build.getSpec().getBuildArgsMap()).containsEntry("VERSION", "1");
        assertThat(build.getSpec().getNoCache()).isTrue();
        assertThat(build.getTrigger().getKind()).isEqualTo(Trigger.Kind.MANUAL);
        assertThat(build.getTrigger().getRule()).isEqualTo(rule.getName());
        assertThat(build.getTrigger().getRef()).isEqualTo("refs/heads/main");
        assertThat(build.getPlatformBuildsList()).hasSize(2);

        // Each click builds again, unless the caller reuses a request_id.
        Build again = api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName(rule.getName()).setRequestId("run-" + repositoryId).build());
        assertThat(again.getName()).isNotEqualTo(build.getName());
        assertThat(api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName(rule.getName()).setRequestId("run-" + repositoryId).build())
                .getName()).isEqualTo(again.getName());
        assertThat(api.buildsOf(rule.getName())).hasSize(2);
    }

    @Test
    void onlyTheSystemCanTriggerRegexAndSuffixRules() {
        BuildRule regex = api.createRule(repositoryId, "releases", releaseRule().build());
        StatusRuntimeException refused = error(() -> api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName(regex.getName()).build()));
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(refused.getStatus().getDescription()).contains("only the system can trigger builds").contains("regular expression");
        assertThat(errorInfo(refused).getReason()).isEqualTo("SYSTEM_TRIGGER_ONLY");

        BuildRule timed = api.createRule(repositoryId, "nightly", mainRule()
                .setTags(0, TagConfig.newBuilder().setTemplate("main").setBuildTimeFormat("yyyyMMdd")).build());
        assertThat(error(() -> api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName(timed.getName()).build()))
                .getStatus().getDescription()).contains("tags[0] has a build-time suffix");

        BuildRule missing = api.createRule(repositoryId, "gone", mainRule().setRefPattern("no-such-branch").build());
        StatusRuntimeException noRef = error(() -> api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName(missing.getName()).build()));
        assertThat(noRef.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
        assertThat(noRef.getStatus().getDescription()).contains("refs/heads/no-such-branch");

        assertThat(api.buildsOf(regex.getName())).isEmpty();
        assertThat(api.buildsOf(timed.getName())).isEmpty();
        assertThat(error(() -> api.rules.runBuildRule(RunBuildRuleRequest.newBuilder().setName("rules/x").build()))
                .getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
}
