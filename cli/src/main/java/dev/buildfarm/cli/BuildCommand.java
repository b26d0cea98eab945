package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.Context;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "build",
    mixinStandardHelpOptions = true,
    description = {"Build a local directory for several platforms and publish one multi-arch tag.",
        "The directory is uploaded as the build context (honouring a simple .dockerignore); the same",
        "files are stored once on the controller."})
final class BuildCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DIR", description = "The build context: a directory with the Dockerfile.")
  Path directory;

  @Option(names = "--file", paramLabel = "NAME", defaultValue = "Dockerfile",
      description = "Dockerfile name inside DIR (default: Dockerfile).")
  String file;

  @Option(names = "--platform", required = true, split = "\\s*,\\s*", splitSynopsisLabel = ",", paramLabel = "PLATFORM",
      description = "Target platform, e.g. linux/amd64; repeat or comma-separate.")
  List<String> platforms;

  @Option(names = {"-t", "--tag"}, required = true, paramLabel = "REPO:TAG", converter = ImageRef.Converter.class,
      description = "Image to publish as REPO:TAG; repeat for more tags of the same repository.")
  List<ImageRef> images;

  @Option(names = "--build-arg", paramLabel = "KEY=VALUE", converter = BuildArg.Converter.class,
      description = "Build argument; repeatable.")
  List<BuildArg> buildArgs = List.of();

  @Option(names = "--no-cache", description = "Pull base images fresh and use no layer cache.")
  boolean noCache;

  @Option(names = "--request-id", paramLabel = "ID",
      description = "Idempotency key: the same id again answers the same build (default: random).")
  String requestId;

  @Option(names = "--follow",
      description = "Show a live status per platform and the logs until the build ends; exit 0 only if it SUCCEEDED.")
  boolean follow;

  @Option(names = "--wait", description = "Wait for the end, printing each state change; exit 0 only if it SUCCEEDED.")
  boolean waitForEnd;

  @Override
  public Integer call() throws IOException, InterruptedException {
    if (!Files.isDirectory(directory)) {
      throw new ParameterException(spec.commandLine(), "DIR '" + directory + "' is not a directory");
    }
    if (file.contains("/") || !Files.isRegularFile(directory.resolve(file))) {
      throw new ParameterException(spec.commandLine(),
          "--file '" + file + "': no such file in " + directory + " (a name inside DIR, without '/')");
    }
    String repository = images.get(0).repository();
    if (images.stream().anyMatch(i -> !i.repository().equals(repository))) {
      throw new ParameterException(spec.commandLine(), "all -t values must name the same repository");
    }
    // With --output json, stdout stays one JSON document; progress goes to stderr.
    PrintWriter progress = main.json() ? spec.commandLine().getErr() : spec.commandLine().getOut();
    try (BuildfarmClient client = main.client()) {
      long start = System.nanoTime();
      ContextUploader upload = new ContextUploader(client.async());
      ContextArchive.Summary summary = ContextArchive.write(directory, file, upload);
      Context context = upload.finish();
      double seconds = (System.nanoTime() - start) / 1e9;
      summary.skipped().forEach(s -> progress.println("skipped " + s + " (not a file, directory or link)"));
      progress.printf("context %s: %d entries, %s%s in %.1fs (%s/s)%n", context.getDigest(), context.getEntries(),
          Printer.bytes(context.getSizeBytes()), context.getExisted() ? ", already on the farm," : "",
          seconds, Printer.bytes((long) (context.getSizeBytes() / Math.max(seconds, 0.001))));
      progress.flush();

      Map<String, String> args = new LinkedHashMap<>();
      buildArgs.forEach(a -> args.put(a.key(), a.value()));
      BuildSpec buildSpec = BuildSpec.newBuilder()
          .setContextDigest(context.getDigest())
          .setDockerfileName(file)
          .addAllPlatforms(platforms.stream().map(String::strip).filter(p -> !p.isEmpty()).toList())
          .setRepository(repository)
          .addAllTags(images.stream().map(ImageRef::tag).distinct().toList())
          .putAllBuildArgs(args)
          .setNoCache(noCache)
          .build();
      Build build = client.submit(SubmitBuildRequest.newBuilder()
          .setRequestId(requestId != null ? requestId : UUID.randomUUID().toString())
          .setSpec(buildSpec)
          .build());
      return SubmitCommand.afterSubmit(main, spec, client, build, waitForEnd, follow);
    }
  }
}
