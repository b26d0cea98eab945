package dev.buildfarm.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Endpoint and token: flag, then environment, then config file, then the built-in default. */
class DefaultsTest {

  @TempDir Path home;

  private Main parse(Map<String, String> env, String... args) {
    CommandLine cl = Main.newCommandLine();
    cl.setDefaultValueProvider(new Defaults(env));
    cl.parseArgs(args);
    return cl.getCommand();
  }

  private Map<String, String> envWithConfig(String content) throws IOException {
    Path config = home.resolve("buildfarm").resolve("config");
    Files.createDirectories(config.getParent());
    Files.writeString(config, content);
    Map<String, String> env = new HashMap<>();
    env.put("XDG_CONFIG_HOME", home.toString());
    return env;
  }

  @Test
  void configFileIsUsedWhenNothingElseIsGiven() throws IOException {
    Main main = parse(envWithConfig("endpoint = farm.example.com:443\ntoken = s3cret\n"), "list");
    assertThat(main.endpoint).isEqualTo("farm.example.com:443");
    assertThat(main.token).isEqualTo("s3cret");
  }

  @Test
  void environmentBeatsTheConfigFileAndFlagsBeatBoth() throws IOException {
    Map<String, String> env = envWithConfig("endpoint = from-file:1\ntoken = file-token\n");
    env.put("BUILDFARM_ENDPOINT", "from-env:2");
    env.put("BUILDFARM_TOKEN", "env-token");
    Main fromEnv = parse(env, "list");
    assertThat(fromEnv.endpoint).isEqualTo("from-env:2");
    assertThat(fromEnv.token).isEqualTo("env-token");

    Main fromFlags = parse(env, "list", "--endpoint", "from-flag:3", "--token", "flag-token");
    assertThat(fromFlags.endpoint).isEqualTo("from-flag:3");
    assertThat(fromFlags.token).isEqualTo("flag-token");
  }

  @Test
  void withoutAnythingTheEndpointIsLoopbackAndThereIsNoToken() {
    Main main = parse(Map.of("XDG_CONFIG_HOME", home.toString()), "list");
    assertThat(main.endpoint).isEqualTo("127.0.0.1:8080");
    assertThat(main.token).isNull();
  }

  @Test
  void buildfarmConfigNamesAnotherFile() throws IOException {
    Path file = home.resolve("other.conf");
    Files.writeString(file, "endpoint=elsewhere:9\n");
    assertThat(parse(Map.of("BUILDFARM_CONFIG", file.toString()), "list").endpoint).isEqualTo("elsewhere:9");
  }

  @Test
  void tlsFilesComeFromTheEnvironmentOrTheConfigFile() throws IOException {
    Map<String, String> env = envWithConfig("endpoint = https://farm:8443\ntls-ca = /etc/farm/ca.crt\n"
        + "tls-cert = /etc/farm/me.crt\ntls-key = /etc/farm/me.key\n");
    Main fromFile = parse(env, "list");
    assertThat(fromFile.endpoint).isEqualTo("https://farm:8443");
    assertThat(fromFile.tlsCa).isEqualTo("/etc/farm/ca.crt");
    assertThat(fromFile.tlsCert).isEqualTo("/etc/farm/me.crt");
    assertThat(fromFile.tlsKey).isEqualTo("/etc/farm/me.key");

    env.put("BUILDFARM_TLS_CA", "/env/ca.crt");
    assertThat(parse(env, "list").tlsCa).isEqualTo("/env/ca.crt");
    assertThat(parse(env, "list", "--tls-ca", "/flag/ca.crt").tlsCa).isEqualTo("/flag/ca.crt");
  }
}
