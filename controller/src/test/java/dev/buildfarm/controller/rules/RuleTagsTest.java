package dev.buildfarm.controller.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.TagConfig;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuleTagsTest {

    // 2020-10-15 16:13 in UTC+8, the seed's example time.
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2020-10-15T08:13:42Z"), ZoneOffset.UTC);
    private static final String COMMIT = "3f2a9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b";

    private static BuildRule rule(TagConfig... tags) {
        return BuildRule.newBuilder().addAllTags(java.util.List.of(tags)).build();
    }

    private static TagConfig.Builder template(String template) {
        return TagConfig.newBuilder().setTemplate(template);
    }

    @Test
    void seedTemplateReassemblesTheVersion() {
        RefPattern pattern = RefPattern.compile("release-(?<major>\\d*)-(?<minor>\\d*)-(?<version>\\d*)");
        Map<String, String> groups = pattern.match("release-11-2-10").orElseThrow();
        assertThat(RuleTags.render(rule(template("${major}.${minor}.${version}").build()), groups, CLOCK.instant(), COMMIT))
                .containsExactly("11.2.10");
    }

    @Test
    void imageTagGroupFromTheBranch() {
        Map<String, String> groups = RefPattern.compile("release-(?<imageTag>\\w*)").match("release-v1").orElseThrow();
        assertThat(RuleTags.render(rule(template("${imageTag}").build()), groups, CLOCK.instant(), COMMIT)).containsExactly("v1");
    }

    @Test
    void buildTimeSuffixesAreThePushTimeInUtcPlus8ByDefault() {
        BuildRule rule = rule(template("main").setBuildTimeFormat("yyyyMMdd").build(),
                template("main").setBuildTimeFormat("yyyyMMddHHmm").build());
        assertThat(RuleTags.render(rule, Map.of(), CLOCK.instant(), COMMIT))
                .containsExactly("main-20201015", "main-202010151613");
    }

    @Test
    void timeZoneIsPerRule() {
        BuildRule rule = rule(template("main").setBuildTimeFormat("yyyyMMddHHmm").build()).toBuilder()
                .setTimeZone("UTC").build();
        assertThat(RuleTags.render(rule, Map.of(), CLOCK.instant(), COMMIT)).containsExactly("main-202010150813");
        // Just before midnight UTC is the next day in UTC+8.
        Instant lateUtc = Instant.parse("2020-10-15T23:30:00Z");
        assertThat(RuleTags.render(rule(template("d").setBuildTimeFormat("yyyyMMdd").build()), Map.of(), lateUtc, COMMIT))
                .containsExactly("d-20201016");
    }

    @Test
    void commitSuffixIsSixCharactersByDefaultAndConfigurable() {
        BuildRule rule = rule(template("main").setCommitIdSuffix(true).build(),
                template("dev").setCommitIdSuffix(true).setCommitIdLength(10).build());
        assertThat(RuleTags.render(rule, Map.of(), CLOCK.instant(), COMMIT)).containsExactly("main-3f2a9c", "dev-3f2a9c0d1e");
    }

    @Test
    void suffixesJoinAsTagThenTimeThenCommit() {
        Map<String, String> groups = Map.of("major", "11", "minor", "2", "version", "10");
        BuildRule rule = rule(template("${major}.${minor}.${version}").setBuildTimeFormat("yyyyMMddHHmm").setCommitIdSuffix(true).build());
        assertThat(RuleTags.render(rule, groups, CLOCK.instant(), COMMIT)).containsExactly("11.2.10-202010151613-3f2a9c");
    }

    @Test
    void identicalRenderingsCollapseToOneTag() {
        BuildRule rule = rule(template("${v}").build(), template("v1").build());
        assertThat(RuleTags.render(rule, Map.of("v", "v1"), CLOCK.instant(), COMMIT)).containsExactly("v1");
    }

    @Test
    void renderedTagBreakingTheOciGrammarIsRefusedWithTheReason() {
        Map<String, String> groups = RefPattern.compile("(?<name>.*)").match("feature/login").orElseThrow();
        assertThatThrownBy(() -> RuleTags.render(rule(template("ok").build(), template("${name}").build()), groups, CLOCK.instant(), COMMIT))
                .isInstanceOf(RuleTags.RenderException.class)
                .hasMessageContaining("tags[1] rendered 'feature/login'")
                .hasMessageContaining("OCI tag grammar");
        assertThatThrownBy(() -> RuleTags.render(rule(template("${v}").build()), Map.of("v", ""), CLOCK.instant(), COMMIT))
                .isInstanceOf(RuleTags.RenderException.class);
    }

    @Test
    void templateSyntax() {
        assertThat(TagTemplate.parse("v${major}-$x").groups()).containsExactly("major");
        assertThat(TagTemplate.parse("v${major}-$x").render(Map.of("major", "3"))).isEqualTo("v3-$x");
        assertThatThrownBy(() -> TagTemplate.parse("v${major")).hasMessageContaining("is not closed");
        assertThatThrownBy(() -> TagTemplate.parse("${1x}")).hasMessageContaining("is not a group name");
        assertThatThrownBy(() -> TagTemplate.parse("")).hasMessageContaining("is required");
    }
}
