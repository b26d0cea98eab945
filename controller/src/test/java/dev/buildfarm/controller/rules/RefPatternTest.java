package dev.buildfarm.controller.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RefPatternTest {

    @Test
    void seedExampleCapturesTheImageTag() {
        RefPattern pattern = RefPattern.compile("release-(?<imageTag>\\w*)");
        assertThat(pattern.isRegex()).isTrue();
        assertThat(pattern.groups()).containsExactly("imageTag");
        assertThat(pattern.match("release-v1")).contains(Map.of("imageTag", "v1"));
    }

    @Test
    void seedExampleCapturesVersionComponents() {
        RefPattern pattern = RefPattern.compile("release-(?<major>\\d*)-(?<minor>\\d*)-(?<version>\\d*)");
        assertThat(pattern.groups()).containsExactly("major", "minor", "version");
        assertThat(pattern.match("release-11-2-10")).contains(Map.of("major", "11", "minor", "2", "version", "10"));
    }

    @Test
    void matchesTheWholeNameOnly() {
        RefPattern pattern = RefPattern.compile("release-(?<imageTag>\\w*)");
        assertThat(pattern.match("xrelease-v1")).isEmpty();
        assertThat(pattern.match("release-v1/extra")).isEmpty();
        assertThat(pattern.match("release-")).contains(Map.of("imageTag", ""));
    }

    @Test
    void groupThatTakesNoPartIsEmpty() {
        RefPattern pattern = RefPattern.compile("v(?<major>\\d+)(-(?<pre>rc\\d+))?");
        assertThat(pattern.match("v2")).contains(Map.of("major", "2", "pre", ""));
        assertThat(pattern.match("v2-rc1")).contains(Map.of("major", "2", "pre", "rc1"));
    }

    @Test
    void plainNamesAreExactAndTheirDotsLiteral() {
        RefPattern pattern = RefPattern.compile("release-1.0");
        assertThat(pattern.isRegex()).isFalse();
        assertThat(pattern.match("release-1.0")).contains(Map.of());
        assertThat(pattern.match("release-1x0")).isEmpty();
        assertThat(RefPattern.compile("feature/login").match("feature/login")).isPresent();
    }

    @Test
    void badRegexSaysWhere() {
        assertThatThrownBy(() -> RefPattern.compile("release-(?<v>\\d+"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a valid regular expression")
                .hasMessageContaining("at index");
    }

    @Test
    void refusesFullRefNamesAndInvalidExactNames() {
        assertThatThrownBy(() -> RefPattern.compile("refs/heads/main")).hasMessageContaining("without refs/heads/");
        assertThatThrownBy(() -> RefPattern.compile("bad..name")).hasMessageContaining("neither a valid branch");
        assertThatThrownBy(() -> RefPattern.compile("")).hasMessageContaining("is required");
    }

    @Test
    void groupScannerSkipsEscapesClassesAndQuotes() {
        assertThat(RefPattern.namedGroups("\\(?<no>x)[(?<nor>)](?<yes>a)\\Q(?<quoted>\\E(?<also>b)(?<=c)(?<!d)"))
                .containsExactly("yes", "also");
    }

    @Test
    void pathologicalPatternFailsOneMatchQuickly() {
        RefPattern pattern = RefPattern.compile("(a+)+b");
        long start = System.nanoTime();
        assertThat(pattern.match("a".repeat(60) + "c")).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }
}
