package dev.buildfarm.cli;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where {@code --endpoint}, {@code --token} and the {@code --tls-*} files come from when not given:
 * the environment ({@code BUILDFARM_ENDPOINT}, {@code BUILDFARM_TOKEN}, {@code BUILDFARM_TLS_CA},
 * {@code BUILDFARM_TLS_CERT}, {@code BUILDFARM_TLS_KEY}), then the config file, then the built-in
 * default. The config file is {@code $BUILDFARM_CONFIG}, else
 * {@code $XDG_CONFIG_HOME/buildfarm/config}, else {@code ~/.config/buildfarm/config}, with lines
 * such as {@code endpoint = https://farm.example.com:8443}, {@code token = ...} and
 * {@code tls-ca = /path/ca.crt}.
 */
final class Defaults implements IDefaultValueProvider {

  static final String DEFAULT_ENDPOINT = "127.0.0.1:8080";

  private final Map<String, String> env;
  private Properties config;

  Defaults(Map<String, String> env) {
    this.env = env;
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec option)) {
      return null;
    }
    return switch (option.longestName()) {
      case "--endpoint" -> first(env.get("BUILDFARM_ENDPOINT"), config("endpoint"), DEFAULT_ENDPOINT);
      case "--token" -> first(env.get("BUILDFARM_TOKEN"), config("token"), null);
      case "--tls-ca" -> first(env.get("BUILDFARM_TLS_CA"), config("tls-ca"), null);
      case "--tls-cert" -> first(env.get("BUILDFARM_TLS_CERT"), config("tls-cert"), null);
      case "--tls-key" -> first(env.get("BUILDFARM_TLS_KEY"), config("tls-key"), null);
      default -> null;
    };
  }

  Path configFile() {
    String explicit = env.get("BUILDFARM_CONFIG");
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit);
    }
    String xdg = env.get("XDG_CONFIG_HOME");
    Path base = xdg != null && !xdg.isBlank()
        ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
    return base.resolve("buildfarm").resolve("config");
  }

  private String config(String key) {
    if (config == null) {
      config = new Properties();
      Path file = configFile();
      if (Files.isRegularFile(file)) {
        try (Reader reader = Files.newBufferedReader(file)) {
          config.load(reader);
        } catch (IOException | IllegalArgumentException e) {
          throw new IllegalStateException("cannot read config file " + file + ": " + e.getMessage());
        }
      }
    }
    String value = config.getProperty(key);
    return value == null ? null : value.strip();
  }

  private static String first(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }
}
