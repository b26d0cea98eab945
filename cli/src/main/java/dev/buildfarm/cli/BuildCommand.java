package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.Context;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

  @Mixin TargetOptions target;

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

      BuildSpec buildSpec = target.fill(BuildSpec.newBuilder()
              .setContextDigest(context.getDigest())
              .setDockerfileName(file))
          .build();
      Build build = client.submit(SubmitBuildRequest.newBuilder()
          .setRequestId(target.requestId())
          .setSpec(buildSpec)
          .build());
      return SubmitCommand.afterSubmit(main, spec, client, build, waitForEnd, follow);
    }
  }
}
