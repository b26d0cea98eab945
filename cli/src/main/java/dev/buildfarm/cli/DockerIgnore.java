package dev.buildfarm.cli;

import java.io.IOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;

/**
 * The simple part of Docker's {@code .dockerignore}: one glob per line ({@code *}, {@code ?},
 * {@code [..]} within a path element, {@code **} across elements), {@code #} comments and
 * {@code !} exceptions, the last matching line deciding. A pattern that matches a directory
 * excludes everything under it.
 */
final class DockerIgnore {

  private record Rule(PathMatcher matcher, boolean exclude) {}

  private final List<Rule> rules;

  private DockerIgnore(List<Rule> rules) {
    this.rules = rules;
  }

  static DockerIgnore none() {
    return new DockerIgnore(List.of());
  }

  static DockerIgnore read(Path directory) throws IOException {
    Path file = directory.resolve(".dockerignore");
    if (!Files.isRegularFile(file)) {
      return none();
    }
    return parse(Files.readAllLines(file));
  }

  static DockerIgnore parse(List<String> lines) {
    List<Rule> rules = new ArrayList<>();
    for (String raw : lines) {
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      boolean exclude = !line.startsWith("!");
      String pattern = clean(exclude ? line : line.substring(1).strip());
      if (pattern.isEmpty()) {
        continue;
      }
      rules.add(new Rule(FileSystems.getDefault().getPathMatcher("glob:" + pattern), exclude));
    }
    return new DockerIgnore(rules);
  }

  /** {@code path} is relative to the context, '/'-separated. */
  boolean excludes(String path) {
    boolean excluded = false;
    for (Rule rule : rules) {
      if (matchesItselfOrAParent(rule.matcher, path)) {
        excluded = rule.exclude;
      }
    }
    return excluded;
  }

  private static boolean matchesItselfOrAParent(PathMatcher matcher, String path) {
    Path p = Path.of(path);
    for (int i = p.getNameCount(); i > 0; i--) {
      if (matcher.matches(p.subpath(0, i))) {
        return true;
      }
    }
    return false;
  }

  private static String clean(String pattern) {
    String p = pattern;
    while (p.startsWith("/") || p.startsWith("./")) {
      p = p.startsWith("/") ? p.substring(1) : p.substring(2);
    }
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }
}
