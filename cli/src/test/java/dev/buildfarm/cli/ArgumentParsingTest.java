package dev.buildfarm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

class ArgumentParsingTest {

  private static final String[] SUBMIT = {
    "submit", "--git-url", "https://example.com/demo.git", "--ref", "main",
    "--platform", "linux/amd64", "-t", "127.0.0.1:5000/demo/hello:main"
  };

  /** Parses without running, and returns the request the submit command would send. */
  private static SubmitBuildRequest request(String... extra) {
    CommandLine cl = Main.newCommandLine();
    ParseResult parsed = cl.parseArgs(concat(SUBMIT, extra));
    SubmitCommand submit = (SubmitCommand) parsed.subcommand().commandSpec().userObject();
    return submit.request();
  }

  private static String[] concat(String[] base, String... extra) {
    List<String> all = new ArrayList<>(List.of(base));
    all.addAll(List.of(extra));
    return all.toArray(String[]::new);
  }

  @Test
  void tagSplitsAtTheLastColonAfterTheLastSlash() {
    assertThat(ImageRef.parse("127.0.0.1:5000/demo/hello:main"))
        .isEqualTo(new ImageRef("127.0.0.1:5000/demo/hello", "main"));
    assertThat(ImageRef.parse("hello:v1.2")).isEqualTo(new ImageRef("hello", "v1.2"));
    assertThat(ImageRef.parse("registry.example.com/a/b:latest"))
        .isEqualTo(new ImageRef("registry.example.com/a/b", "latest"));
  }

  @Test
  void referenceWithoutTagIsRefused() {
    // The colon belongs to the registry's port, not to a tag.
    assertThatThrownBy(() -> ImageRef.parse("127.0.0.1:5000/demo/hello"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("has no tag");
    assertThatThrownBy(() -> ImageRef.parse("hello")).hasMessageContaining("has no tag");
    assertThatThrownBy(() -> ImageRef.parse("hello:")).hasMessageContaining("expected repo:tag");
    assertThatThrownBy(() -> ImageRef.parse(":main")).hasMessageContaining("expected repo:tag");
    assertThatThrownBy(() -> ImageRef.parse("hello@sha256:abcd")).hasMessageContaining("digest");
  }

  @Test
  void missingTagOnTheCommandLineIsAUsageError() {
    CliRun run = CliRun.of("submit", "--git-url", "u", "--ref", "main", "--platform", "linux/amd64",
        "-t", "127.0.0.1:5000/demo/hello");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("has no tag");
  }

  @Test
  void buildArgsParse() {
    assertThat(BuildArg.parse("K=V")).isEqualTo(new BuildArg("K", "V"));
    assertThat(BuildArg.parse("K=")).isEqualTo(new BuildArg("K", ""));
    assertThat(BuildArg.parse("K=a=b")).isEqualTo(new BuildArg("K", "a=b"));
    assertThatThrownBy(() -> BuildArg.parse("=V")).hasMessageContaining("key is empty");
    assertThatThrownBy(() -> BuildArg.parse("K")).hasMessageContaining("KEY=VALUE");
  }

  @Test
  void buildArgsReachTheRequest() {
    SubmitBuildRequest req = request("--build-arg", "A=1", "--build-arg", "EMPTY=", "--build-arg", "A=2");
    assertThat(req.getSpec().getBuildArgsMap()).isEqualTo(Map.of("A", "2", "EMPTY", ""));
  }

  @Test
  void buildArgWithEmptyKeyIsAUsageError() {
    CliRun run = CliRun.of(concat(SUBMIT, "--build-arg", "=V"));
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("key is empty");
  }

  @Test
  void platformsMayBeRepeatedOrCommaSeparated() {
    SubmitBuildRequest req = request("--platform", "linux/arm64, linux/arm/v7", "--platform", "linux/arm/v6");
    assertThat(req.getSpec().getPlatformsList())
        .containsExactly("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");
  }

  @Test
  void requestCarriesTheWholeSpec() {
    SubmitBuildRequest req = request("-t", "127.0.0.1:5000/demo/hello:latest", "--context", "app",
        "--file", "Dockerfile.arm", "--no-cache", "--request-id", "r-1");
    assertThat(req.getRequestId()).isEqualTo("r-1");
    assertThat(req.getSpec().getSource().getUrl()).isEqualTo("https://example.com/demo.git");
    assertThat(req.getSpec().getSource().getRef()).isEqualTo("main");
    assertThat(req.getSpec().getSource().getCommit()).isEmpty();
    assertThat(req.getSpec().getRepository()).isEqualTo("127.0.0.1:5000/demo/hello");
    assertThat(req.getSpec().getTagsList()).containsExactly("main", "latest");
    assertThat(req.getSpec().getDockerfileDirectory()).isEqualTo("app");
    assertThat(req.getSpec().getDockerfileName()).isEqualTo("Dockerfile.arm");
    assertThat(req.getSpec().getNoCache()).isTrue();
  }

  @Test
  void requestIdDefaultsToARandomOne() {
    assertThat(request().getRequestId()).isNotBlank().isNotEqualTo(request().getRequestId());
  }

  @Test
  void tagsOfDifferentRepositoriesAreAUsageError() {
    CliRun run = CliRun.of(concat(SUBMIT, "-t", "127.0.0.1:5000/demo/other:main"));
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("same repository");
  }

  @Test
  void refAndCommitAreExclusiveAndOneIsRequired() {
    assertThat(CliRun.of(concat(SUBMIT, "--commit", "0123456789abcdef0123456789abcdef01234567"))
        .exitCode()).isEqualTo(2);
    assertThat(CliRun.of("submit", "--git-url", "u", "--platform", "linux/amd64", "-t", "r:t")
        .exitCode()).isEqualTo(2);
  }

  @Test
  void unknownFlagIsAUsageError() {
    CliRun run = CliRun.of(concat(SUBMIT, "--frobnicate"));
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--frobnicate");
  }

  @Test
  void missingSubcommandIsAUsageError() {
    assertThat(CliRun.of().exitCode()).isEqualTo(2);
  }

  @Test
  void globalOptionsWorkBeforeAndAfterTheSubcommand() {
    CommandLine before = Main.newCommandLine();
    before.parseArgs("--endpoint", "h:1", "--output", "json", "list");
    assertThat(((Main) before.getCommand()).endpoint).isEqualTo("h:1");
    assertThat(((Main) before.getCommand()).output).isEqualTo(Main.Output.json);

    CommandLine after = Main.newCommandLine();
    after.parseArgs("list", "--endpoint", "h:2", "--output", "JSON");
    assertThat(((Main) after.getCommand()).endpoint).isEqualTo("h:2");
    assertThat(((Main) after.getCommand()).output).isEqualTo(Main.Output.json);
  }

  @Test
  void endpointDefaultsToTheEnvironmentOrLoopback() {
    CommandLine cl = Main.newCommandLine();
    cl.parseArgs("list");
    String env = System.getenv("BUILDFARM_ENDPOINT");
    assertThat(((Main) cl.getCommand()).endpoint).isEqualTo(env != null ? env : "127.0.0.1:8080");
  }

  @Test
  void unreachableEndpointExitsFourWithOneClearLine() {
    // Port 1 is closed on any sane machine: the connection is refused at once.
    CliRun run = CliRun.of("--endpoint", "127.0.0.1:1", "submit", "--git-url", "u", "--ref", "main",
        "--platform", "linux/amd64", "-t", "r:t");
    assertThat(run.exitCode()).isEqualTo(4);
    assertThat(run.err().lines()).hasSize(1);
    assertThat(run.err())
        .startsWith("error: UNAVAILABLE: ")
        .contains("127.0.0.1:1")
        .doesNotContain("\tat ");
  }

  @Test
  void bashCompletionCoversTheSubcommands() {
    CliRun run = CliRun.of("completion", "bash");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("complete -F").contains("logs").contains("cancel").contains("rules");
  }

  @Test
  void badValuesAreOneLineUsageErrors() {
    CliRun badOutput = CliRun.of("--output", "yaml", "list");
    assertThat(badOutput.exitCode()).isEqualTo(2);
    assertThat(badOutput.err().lines().findFirst().orElseThrow()).startsWith("error: ").contains("--output");

    CliRun unknown = CliRun.of("logs", "b1", "--tail");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err()).startsWith("error: Unknown option: '--tail'");

    CliRun badTag = CliRun.of("rules", "create", "r", "x", "--branch", "main", "--image-tag", "v,when=now",
        "--platform", "linux/amd64");
    assertThat(badTag.exitCode()).isEqualTo(2);
    assertThat(badTag.err()).contains("when=now");

    assertThat(CliRun.of("rules").exitCode()).isEqualTo(2);
  }
}
