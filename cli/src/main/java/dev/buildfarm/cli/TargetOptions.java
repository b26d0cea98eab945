package dev.buildfarm.cli;

import dev.buildfarm.api.v1.BuildSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** What `build` and `submit` share: the platforms, the image and tags, build arguments, the request id. */
final class TargetOptions {

  @Spec(Spec.Target.MIXEE) CommandSpec spec;

  @Option(names = "--platform", required = true, split = "\\s*,\\s*", splitSynopsisLabel = ",", paramLabel = "PLATFORM",
      description = "Target platform, e.g. linux/amd64; repeat or comma-separate.")
  List<String> platforms;

  @Option(names = {"-t", "--tag"}, required = true, paramLabel = "REPO:TAG",
      converter = ImageRef.Converter.class,
      description = "Image to publish as REPO:TAG; repeat for more tags of the same repository.")
  List<ImageRef> images;

  @Option(names = "--build-arg", paramLabel = "KEY=VALUE", converter = BuildArg.Converter.class,
      description = "Build argument; repeatable.")
  List<BuildArg> buildArgs = List.of();

  @Option(names = "--secret-build-arg", paramLabel = "NAME[=VALUE]",
      description = "Secret build argument: its value reaches only the agent that builds, never logs, events or "
          + "answers. NAME alone takes the value from the environment variable NAME, which keeps it out of shell "
          + "history; repeatable.")
  List<String> secretBuildArgs = List.of();

  @Option(names = "--secret-build-arg-file", paramLabel = "NAME=PATH", converter = BuildArg.Converter.class,
      description = "Secret build argument whose value is the file's content (one trailing newline dropped); repeatable.")
  List<BuildArg> secretBuildArgFiles = List.of();

  @Option(names = "--no-cache", description = "Pull base images fresh and use no layer cache.")
  boolean noCache;

  @Option(names = "--request-id", paramLabel = "ID",
      description = "Idempotency key: submitting the same id again answers the same build (default: random).")
  String requestId;

  /** Platforms, repository, tags, arguments and no-cache set on {@code spec}; a usage error when inconsistent. */
  BuildSpec.Builder fill(BuildSpec.Builder buildSpec) {
    String repository = images.get(0).repository();
    for (ImageRef image : images) {
      if (!image.repository().equals(repository)) {
        throw new ParameterException(spec.commandLine(),
            "all -t values must name the same repository: " + images.get(0) + " vs " + image);
      }
    }
    List<String> cleanPlatforms = platforms.stream().map(String::strip).filter(p -> !p.isEmpty()).toList();
    if (cleanPlatforms.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "--platform needs at least one platform");
    }
    Map<String, String> args = new HashMap<>();
    buildArgs.forEach(a -> args.put(a.key(), a.value())); // the last one wins, as with docker
    return buildSpec
        .addAllPlatforms(cleanPlatforms)
        .setRepository(repository)
        .addAllTags(images.stream().map(ImageRef::tag).distinct().toList())
        .putAllBuildArgs(args)
        .putAllSecretBuildArgs(secretArgs())
        .setNoCache(noCache);
  }

  /** The secret build arguments, their values read now; errors name the argument, never a value. */
  private Map<String, String> secretArgs() {
    Map<String, String> env = ((Main) spec.root().userObject()).environment;
    Map<String, String> secrets = new HashMap<>();
    for (String arg : secretBuildArgs) {
      if (arg.contains("=")) {
        BuildArg parsed;
        try {
          parsed = BuildArg.parse(arg);
        } catch (IllegalArgumentException e) {
          throw new ParameterException(spec.commandLine(), "--secret-build-arg: the name is empty; expected NAME or NAME=VALUE");
        }
        secrets.put(parsed.key(), parsed.value());
      } else {
        String value = env.get(arg);
        if (arg.isEmpty() || value == null) {
          throw new ParameterException(spec.commandLine(), "--secret-build-arg " + arg
              + ": the environment variable '" + arg + "' is not set (NAME alone takes the value from it)");
        }
        secrets.put(arg, value);
      }
    }
    for (BuildArg file : secretBuildArgFiles) {
      try {
        String value = Files.readString(Path.of(file.value()), StandardCharsets.UTF_8);
        secrets.put(file.key(), value.endsWith("\n") ? value.substring(0, value.length() - 1) : value);
      } catch (IOException | RuntimeException e) {
        throw new ParameterException(spec.commandLine(), "--secret-build-arg-file " + file.key() + ": cannot read "
            + file.value() + " (" + e.getClass().getSimpleName() + ")");
      }
    }
    return secrets;
  }

  /** A random key still makes the controller's deduplication safe for this one invocation. */
  String requestId() {
    return requestId != null ? requestId : UUID.randomUUID().toString();
  }
}
