package dev.buildfarm.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.LintResult;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** helm lint --strict: warnings count as failures. */
class ChartLintTest {

    @Test
    void defaultValuesLintStrictly() {
        LintResult result = Chart.lint();

        assertThat(result.isFailed()).as("lint failed: %s", result.getMessages()).isFalse();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @Test
    void fullValueSetLintsStrictly(@TempDir Path temp) throws IOException {
        LintResult result = Chart.lintWith(temp, "full.yaml");

        assertThat(result.isFailed()).as("lint failed: %s", result.getMessages()).isFalse();
        assertThat(result.getMessages()).noneMatch(m -> m.contains("[WARNING]") || m.contains("[ERROR]"));
    }

    @Test
    void hostSocketValueSetLintsStrictly(@TempDir Path temp) throws IOException {
        LintResult result = Chart.lintWith(temp, "host-socket.yaml");

        assertThat(result.isFailed()).as("lint failed: %s", result.getMessages()).isFalse();
    }

    @Test
    void lintReportsSchemaViolationsByField(@TempDir Path temp) throws IOException {
        LintResult result = Chart.lintWith(temp, "bad-replicas.yaml");

        assertThat(result.isFailed()).isTrue();
        assertThat(String.join("\n", result.getMessages()))
                .contains("/agents/pools/linux-arm-v7/replicas")
                .contains("minimum");
    }
}
