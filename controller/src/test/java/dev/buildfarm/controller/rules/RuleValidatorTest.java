package dev.buildfarm.controller.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.Code;
import dev.buildfarm.api.v1.BuildParameter;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildSpecValidator;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RuleValidatorTest {

    private final RuleValidator validator = new RuleValidator(new BuildSpecValidator(false));

    static BuildRule.Builder valid() {
        return BuildRule.newBuilder()
                .setRefType(BuildRule.RefType.TAG)
                .setRefPattern("release-(?<major>\\d*)-(?<minor>\\d*)-(?<version>\\d*)")
                .addTags(TagConfig.newBuilder().setTemplate("${major}.${minor}.${version}"))
                .addPlatforms("linux/amd64")
                .addPlatforms("aarch64");
    }

    @Test
    void normalisesAndFillsDefaults() {
        BuildRule rule = validator.validate(valid()
                .addTags(TagConfig.newBuilder().setTemplate("latest").setCommitIdSuffix(true))
                .setDockerfileDirectory("./app/").build(), "rule");
        assertThat(rule.getDockerfileName()).isEqualTo("Dockerfile");
        assertThat(rule.getDockerfileDirectory()).isEqualTo("app");
        assertThat(rule.getPlatformsList()).containsExactly("linux/amd64", "linux/arm64");
        assertThat(rule.getTimeZone()).isEqualTo("+08:00");
        assertThat(rule.getTags(1).getCommitIdLength()).isEqualTo(6);
    }

    @Test
    void acceptsTwentyParametersThreeTagsAndARegionZone() {
        BuildRule.Builder rule = valid().setTimeZone("Asia/Shanghai")
                .addTags(TagConfig.newBuilder().setTemplate("latest"))
                .addTags(TagConfig.newBuilder().setTemplate("v${major}").setBuildTimeFormat("yyyyMMddHHmm"));
        IntStream.range(0, 20).forEach(i -> rule.addBuildParameters(BuildParameter.newBuilder().setKey("ARG_" + i).setValue("v")));
        // Keys are case-sensitive: these are two parameters.
        rule.setBuildParameters(0, BuildParameter.newBuilder().setKey("arg").setValue("1"))
                .setBuildParameters(1, BuildParameter.newBuilder().setKey("ARG").setValue("2"));
        assertThat(validator.validate(rule.build(), "rule").getBuildParametersCount()).isEqualTo(20);
    }

    static Stream<Arguments> badRules() {
        return Stream.of(
                bad("regex that does not compile", r -> r.setRefPattern("release-(?<v>\\d+"), "rule.ref_pattern", "not a valid regular expression"),
                bad("template names an unknown group", r -> r.setTags(0, TagConfig.newBuilder().setTemplate("${major}.${patch}")),
                        "rule.tags[0].template", "refers to ${patch}, which ref_pattern does not define"),
                bad("group on an exact name", r -> r.setRefPattern("main"), "rule.tags[0].template", "it has no named groups"),
                bad("four tag configurations", r -> r.addTags(TagConfig.newBuilder().setTemplate("a"))
                        .addTags(TagConfig.newBuilder().setTemplate("b")).addTags(TagConfig.newBuilder().setTemplate("c")),
                        "rule.tags", "at most 3"),
                bad("no tags", r -> r.clearTags(), "rule.tags", "at least one"),
                bad("unknown suffix format", r -> r.setTags(0, TagConfig.newBuilder().setTemplate("x").setBuildTimeFormat("yyyy-MM-dd")),
                        "rule.tags[0].build_time_format", "use yyyyMMdd or yyyyMMddHHmm"),
                bad("commit length out of range", r -> r.setTags(0, TagConfig.newBuilder().setTemplate("x").setCommitIdSuffix(true).setCommitIdLength(41)),
                        "rule.tags[0].commit_id_length", "4 to 40"),
                bad("template always breaks the grammar", r -> r.setTags(0, TagConfig.newBuilder().setTemplate("v/${major}")),
                        "rule.tags[0].template", "break the OCI tag grammar"),
                bad("same fixed tag twice", r -> r.setTags(0, TagConfig.newBuilder().setTemplate("latest"))
                        .addTags(TagConfig.newBuilder().setTemplate("latest")), "rule.tags[1]", "as tags[0] does"),
                bad("21 build parameters", r -> IntStream.range(0, 21).forEach(i ->
                        r.addBuildParameters(BuildParameter.newBuilder().setKey("K" + i))), "rule.build_parameters", "at most 20"),
                bad("duplicate build parameter", r -> r.addBuildParameters(BuildParameter.newBuilder().setKey("A"))
                        .addBuildParameters(BuildParameter.newBuilder().setKey("A")), "rule.build_parameters[1]", "already given"),
                bad("bad build parameter key", r -> r.addBuildParameters(BuildParameter.newBuilder().setKey("1x")),
                        "rule.build_parameters[0]", "the key must match"),
                bad("Windows platform", r -> r.addPlatforms("windows/amd64"), "rule.platforms[2]", "Windows images are not supported"),
                bad("no platforms", r -> r.clearPlatforms(), "rule.platforms", "at least one platform"),
                bad("no ref type", r -> r.clearRefType(), "rule.ref_type", "BRANCH or TAG"),
                bad("unknown time zone", r -> r.setTimeZone("Mars/Olympus"), "rule.time_zone", "not a time zone"),
                bad("directory leaving the repository", r -> r.setDockerfileDirectory("../x"), "rule.dockerfile_directory", "leaves the repository"));
    }

    private static Arguments bad(String name, Consumer<BuildRule.Builder> change, String field, String text) {
        return Arguments.of(name, change, field, text);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badRules")
    void refusesNamingTheFieldAndTheRule(String name, Consumer<BuildRule.Builder> change, String field, String text) {
        BuildRule.Builder rule = valid();
        change.accept(rule);
        ApiError error = catchThrowableOfType(ApiError.class, () -> validator.validate(rule.build(), "rule"));
        assertThat(error).as(name).isNotNull();
        assertThat(error.code()).isEqualTo(Code.INVALID_ARGUMENT);
        assertThat(error.violations()).anySatisfy(v -> {
            assertThat(v.field()).isEqualTo(field);
            assertThat(v.description()).contains(text);
        });
    }

    @Test
    void onlyTheSystemTriggersRegexAndSuffixRules() {
        assertThat(RuleValidator.systemTriggerReasons(valid().build())).singleElement().asString().contains("regular expression");
        BuildRule exact = valid().setRefPattern("main").setTags(0, TagConfig.newBuilder().setTemplate("latest")).build();
        assertThat(RuleValidator.systemTriggerReasons(exact)).isEmpty();
        assertThat(RuleValidator.systemTriggerReasons(exact.toBuilder()
                .setTags(0, TagConfig.newBuilder().setTemplate("latest").setBuildTimeFormat("yyyyMMdd").setCommitIdSuffix(true)).build()))
                .containsExactly("tags[0] has a build-time suffix, which only a push has",
                        "tags[0] has a commit-id suffix, which only a push has");
    }
}
