package dev.buildfarm.controller.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.Code;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.controller.api.ApiError;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class BuildSpecValidatorTest {

    private final BuildSpecValidator validator = new BuildSpecValidator(false);

    private static BuildSpec.Builder valid() {
        return BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://git.example.com/team/app.git").setRef("main"))
                .addPlatforms("linux/amd64")
                .addPlatforms("linux/arm64")
                .setRepository("127.0.0.1:5000/demo/hello")
                .addTags("main");
    }

    @Test
    void normalisesAndFillsDefaults() {
        BuildSpec spec = validator.validate(valid().clearPlatforms()
                .addPlatforms("armel").addPlatforms("aarch64").addPlatforms("x86_64").addPlatforms("armhf")
                .setDockerfileDirectory("./app/").build());
        assertThat(spec.getPlatformsList()).containsExactly("linux/amd64", "linux/arm64", "linux/arm/v7", "linux/arm/v6");
        assertThat(spec.getDockerfileName()).isEqualTo("Dockerfile");
        assertThat(spec.getDockerfileDirectory()).isEqualTo("app");
    }

    @Test
    void acceptsTwentyBuildArgsAndThreeTags() {
        BuildSpec.Builder spec = valid().clearTags().addTags("a").addTags("b").addTags("c");
        IntStream.range(0, 20).forEach(i -> spec.putBuildArgs("ARG_" + i, "v"));
        assertThat(validator.validate(spec.build()).getBuildArgsCount()).isEqualTo(20);
    }

    static Stream<Arguments> badSpecs() {
        return Stream.of(
                bad("windows", s -> s.clearPlatforms().addPlatforms("windows/amd64"), "spec.platforms[0]", "Windows images are not supported"),
                bad("unknown platform", s -> s.addPlatforms("linux/s390x"), "spec.platforms[2]", "not a supported platform"),
                bad("no platforms", s -> s.clearPlatforms(), "spec.platforms", "at least one platform"),
                bad("duplicate after normalisation", s -> s.addPlatforms("aarch64"), "spec.platforms[2]", "duplicates 'linux/arm64'"),
                bad("four tags", s -> s.addTags("b").addTags("c").addTags("d"), "spec.tags", "at most 3"),
                bad("no tags", s -> s.clearTags(), "spec.tags", "at least one tag"),
                bad("bad tag", s -> s.clearTags().addTags("-bad"), "spec.tags[0]", "OCI distribution grammar"),
                bad("long tag", s -> s.clearTags().addTags("a".repeat(129)), "spec.tags[0]", "OCI distribution grammar"),
                bad("uppercase repository", s -> s.setRepository("127.0.0.1:5000/Demo/Hello"), "spec.repository", "OCI distribution grammar"),
                bad("repository without registry", s -> s.setRepository("hello"), "spec.repository", "registry-host"),
                bad("repository without namespace", s -> s.setRepository("127.0.0.1:5000/hello"), "spec.repository", "has no namespace"),
                bad("repository double slash", s -> s.setRepository("127.0.0.1:5000//hello"), "spec.repository", "OCI distribution grammar"),
                bad("21 build args", s -> {
                    IntStream.range(0, 21).forEach(i -> s.putBuildArgs("A" + i, "v"));
                    return s;
                }, "spec.build_args", "at most 20"),
                bad("bad build arg key", s -> s.putBuildArgs("1X", "v"), "spec.build_args[1X]", "key must match"),
                bad("automatic build arg", s -> s.putBuildArgs("TARGETARCH", "x"), "spec.build_args[TARGETARCH]", "set by the farm"),
                bad("21 build args, secret ones included", s -> {
                    IntStream.range(0, 15).forEach(i -> s.putBuildArgs("A" + i, "v"));
                    IntStream.range(0, 6).forEach(i -> s.putSecretBuildArgs("S" + i, "v"));
                    return s;
                }, "spec.secret_build_args", "at most 20 together"),
                bad("bad secret build arg key", s -> s.putSecretBuildArgs("1X", "v"), "spec.secret_build_args[1X]", "key must match"),
                bad("automatic secret build arg", s -> s.putSecretBuildArgs("BUILDARCH", "x"), "spec.secret_build_args[BUILDARCH]", "set by the farm"),
                bad("long secret value", s -> s.putSecretBuildArgs("TOKEN", "x".repeat(4097)), "spec.secret_build_args[TOKEN]", "longer than 4096"),
                bad("key both plain and secret", s -> s.putBuildArgs("TOKEN", "a").putSecretBuildArgs("TOKEN", "b"),
                        "spec.secret_build_args[TOKEN]", "also in build_args"),
                bad("directory escapes", s -> s.setDockerfileDirectory("app/../../etc"), "spec.dockerfile_directory", "leaves the repository"),
                bad("absolute directory", s -> s.setDockerfileDirectory("/etc"), "spec.dockerfile_directory", "relative path"),
                bad("dockerfile name with slash", s -> s.setDockerfileName("../Dockerfile"), "spec.dockerfile_name", "without '/'"),
                bad("no source", s -> s.clearSource(), "spec.source", "is required"),
                bad("ref and commit", s -> s.setSource(s.getSource().toBuilder().setCommit("a".repeat(40))), "spec.source", "exactly one of ref or commit"),
                bad("short commit", s -> s.setSource(s.getSource().toBuilder().clearRef().setCommit("abc123")), "spec.source.commit", "40-character"),
                bad("ref with dots", s -> s.setSource(s.getSource().toBuilder().setRef("a..b")), "spec.source.ref", "not a valid git ref"),
                bad("option injection", s -> s.setSource(s.getSource().toBuilder().setUrl("--upload-pack=touch /tmp/x")), "spec.source.url", "starts with '-', which git reads as an option"),
                bad("ext transport", s -> s.setSource(s.getSource().toBuilder().setUrl("ext::sh -c touch% /tmp/x")), "spec.source.url", "remote-helper address"),
                bad("fd transport", s -> s.setSource(s.getSource().toBuilder().setUrl("fd::3")), "spec.source.url", "remote-helper address"),
                bad("host option", s -> s.setSource(s.getSource().toBuilder().setUrl("ssh://-oProxyCommand=touch%20x/app.git")), "spec.source.url", "the host '-oProxyCommand"),
                bad("user option", s -> s.setSource(s.getSource().toBuilder().setUrl("ssh://-oProxyCommand=x@git.example.com/app.git")), "spec.source.url", "the user '-oProxyCommand=x' starts with '-'"),
                bad("scp-like address", s -> s.setSource(s.getSource().toBuilder().setUrl("git@github.com:team/app.git")), "spec.source.url", "has no scheme"),
                bad("spaces", s -> s.setSource(s.getSource().toBuilder().setUrl("https://git.example.com/a b.git")), "spec.source.url", "spaces or control characters"),
                bad("long url", s -> s.setSource(s.getSource().toBuilder().setUrl("https://git.example.com/" + "a".repeat(2100))), "spec.source.url", "at most 2048"),
                bad("metadata address", s -> s.setSource(s.getSource().toBuilder().setUrl("http://169.254.169.254/latest/meta-data/")), "spec.source.url", "link-local or cloud metadata address"),
                bad("metadata name", s -> s.setSource(s.getSource().toBuilder().setUrl("http://metadata.google.internal/x.git")), "spec.source.url", "cloud metadata service"),
                bad("alibaba metadata", s -> s.setSource(s.getSource().toBuilder().setUrl("https://100.100.100.200/x.git")), "spec.source.url", "link-local or cloud metadata address"),
                bad("link-local ipv6", s -> s.setSource(s.getSource().toBuilder().setUrl("git://[fe80::1]/x.git")), "spec.source.url", "link-local or cloud metadata address"),
                bad("aws ipv6 metadata", s -> s.setSource(s.getSource().toBuilder().setUrl("http://[fd00:ec2::254]/x.git")), "spec.source.url", "link-local or cloud metadata address"),
                bad("metadata as a number", s -> s.setSource(s.getSource().toBuilder().setUrl("http://0xa9fea9fe/x.git")), "spec.source.url", "169.254.169.254"),
                bad("long directory", s -> s.setDockerfileDirectory("d/".repeat(600)), "spec.dockerfile_directory", "at most 1024"),
                bad("control character in directory", s -> s.setDockerfileDirectory("app\u0007"), "spec.dockerfile_directory", "without control characters"),
                bad("long build arg value", s -> s.putBuildArgs("V", "x".repeat(4097)), "spec.build_args[V]", "longer than 4096"),
                bad("long build arg key", s -> s.putBuildArgs("K".repeat(129), "v"), "spec.build_args[" + "K".repeat(77) + "...]", "key must match"),
                bad("long request ref", s -> s.setSource(s.getSource().toBuilder().setRef("r".repeat(256))), "spec.source.ref", "not a valid git ref"),
                bad("file url disabled", s -> s.setSource(s.getSource().toBuilder().setUrl("file:///srv/git/app")), "spec.source.url", "file:// sources are disabled"),
                bad("ftp scheme", s -> s.setSource(s.getSource().toBuilder().setUrl("ftp://example.com/x.git")), "spec.source.url", "scheme 'ftp' is not allowed"));
    }

    private static Arguments bad(String name, UnaryOperator<BuildSpec.Builder> change, String field, String rule) {
        return Arguments.of(name, change.apply(valid()).build(), field, rule);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSpecs")
    void refusesWithTheFieldAndTheRule(String name, BuildSpec spec, String field, String rule) {
        assertThatThrownBy(() -> validator.validate(spec))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    assertThat(e.code()).isEqualTo(Code.INVALID_ARGUMENT);
                    assertThat(e.violations()).anySatisfy(v -> {
                        assertThat(v.field()).isEqualTo(field);
                        assertThat(v.description()).contains(rule);
                    });
                });
    }

    @Test
    void acceptsOrdinaryGitUrls() {
        for (String url : java.util.List.of("https://git.example.com/team/app.git", "ssh://git@git.example.com:2222/team/app.git",
                "git://127.0.0.1:9418/examples.git", "git://[::1]/examples.git", "http://10.0.0.5/app.git", "HTTPS://Git.Example.com/app")) {
            BuildSpec spec = valid().setSource(GitSource.newBuilder().setUrl(url).setRef("main")).build();
            assertThat(validator.validate(spec).getSource().getUrl()).as(url).isEqualTo(url);
        }
    }

    @Test
    void acceptsTwentyArgumentsPlainAndSecretTogether() {
        BuildSpec.Builder spec = valid();
        IntStream.range(0, 10).forEach(i -> spec.putBuildArgs("ARG_" + i, "v"));
        IntStream.range(0, 10).forEach(i -> spec.putSecretBuildArgs("SECRET_" + i, "v"));
        assertThat(validator.validate(spec.build()).getSecretBuildArgsCount()).isEqualTo(10);
    }

    @Test
    void aRefusedSecretValueIsNeverQuoted() {
        String value = "never-quote-me-" + "x".repeat(4096);
        BuildSpec spec = valid().putSecretBuildArgs("bad key", value).build();
        assertThatThrownBy(() -> validator.validate(spec)).isInstanceOfSatisfying(ApiError.class, e -> {
            assertThat(e.getMessage()).doesNotContain("never-quote-me");
            assertThat(e.violations()).allSatisfy(v -> assertThat(v.description()).doesNotContain("never-quote-me"));
        });
    }

    @Test
    void maskingKeepsTheKeysAndHidesTheValues() {
        BuildSpec spec = valid().putBuildArgs("VERSION", "1.2").putSecretBuildArgs("NPM_TOKEN", "npm-abc").build();
        BuildSpec masked = SecretBuildArgs.masked(spec);
        assertThat(masked.getSecretBuildArgsMap()).containsExactly(java.util.Map.entry("NPM_TOKEN", "****"));
        assertThat(masked.getBuildArgsMap()).containsExactly(java.util.Map.entry("VERSION", "1.2"));
        assertThat(BuildMapper.specToJson(masked)).doesNotContain("npm-abc");
        assertThat(masked.toBuilder().clearSecretBuildArgs().build()).isEqualTo(spec.toBuilder().clearSecretBuildArgs().build());
    }

    @Test
    void reportsEveryBrokenFieldAtOnce() {
        BuildSpec spec = valid().clearPlatforms().clearTags().setRepository("NOPE").build();
        assertThatThrownBy(() -> validator.validate(spec))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.violations())
                        .extracting(ApiError.Violation::field)
                        .containsExactlyInAnyOrder("spec.platforms", "spec.tags", "spec.repository"));
    }

    @Test
    void requestIdGrammar() {
        validator.validateRequestId("");
        validator.validateRequestId("ci-run:42.1");
        assertThatThrownBy(() -> validator.validateRequestId("has space")).isInstanceOf(ApiError.class)
                .hasMessageContaining("request_id");
    }
}
