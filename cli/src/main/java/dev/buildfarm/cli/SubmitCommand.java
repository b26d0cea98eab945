package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(
    name = "submit",
    mixinStandardHelpOptions = true,
    description = "Submit a multi-arch build of a git repository; prints the build's name.")
final class SubmitCommand implements Callable<Integer> {

  static final Duration POLL_INTERVAL = Duration.ofMillis(500);

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Option(names = "--git-url", required = true, paramLabel = "URL", description = "Git repository URL.")
  String gitUrl;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Revision revision;

  static final class Revision {
    @Option(names = "--ref", required = true, paramLabel = "REF",
        description = "Branch, tag or ref name; the controller resolves it to one commit.")
    String ref;

    @Option(names = "--commit", required = true, paramLabel = "SHA", description = "A full commit id.")
    String commit;
  }

  @Option(names = "--context", paramLabel = "DIR", defaultValue = "",
      description = "Build context directory inside the repository (default: the root).")
  String context;

  @Option(names = "--file", paramLabel = "NAME", defaultValue = "",
      description = "Dockerfile name inside the context (default: Dockerfile).")
  String file;

  @Mixin TargetOptions target;

  @Option(names = "--wait",
      description = "Wait for the build to end, printing each state change; exit 0 only if it SUCCEEDED.")
  boolean waitForEnd;

  /** The request these arguments describe; a usage error (exit 2) when they are inconsistent. */
  SubmitBuildRequest request() {
    GitSource.Builder source = GitSource.newBuilder().setUrl(gitUrl);
    if (revision.commit != null) {
      source.setCommit(revision.commit);
    } else {
      source.setRef(revision.ref);
    }
    BuildSpec buildSpec = target.fill(BuildSpec.newBuilder()
            .setSource(source)
            .setDockerfileDirectory(context)
            .setDockerfileName(file))
        .build();
    return SubmitBuildRequest.newBuilder().setRequestId(target.requestId()).setSpec(buildSpec).build();
  }

  @Option(names = {"-f", "--follow"},
      description = "Show a live status per platform and the logs until the build ends; exit 0 only if it SUCCEEDED.")
  boolean follow;

  @Override
  public Integer call() throws InterruptedException {
    SubmitBuildRequest request = request();
    try (BuildfarmClient client = main.client()) {
      return afterSubmit(main, spec, client, client.submit(request), waitForEnd, follow);
    }
  }

  /**
   * What every submitting command prints: the build's name (or JSON), or with --wait/--follow its
   * progress and then its end, as the exit code (0 only when it SUCCEEDED).
   */
  static int afterSubmit(Main main, CommandSpec spec, BuildfarmClient client, Build build,
                         boolean waitForEnd, boolean follow) throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    if (!waitForEnd && !follow) {
      if (main.json()) {
        Printer.json(out, build);
      } else {
        out.println(build.getName());
      }
      out.flush();
      return 0;
    }
    // In json mode progress goes to stderr, so stdout stays one parseable document.
    PrintWriter progress = main.json() ? spec.commandLine().getErr() : out;
    progress.println(build.getName());
    progress.flush();
    build = follow
        ? new Follower(client, progress, main.liveStatus(), true, Clock.systemUTC()).follow(build)
        : follow(client, build, progress);
    if (main.json()) {
      Printer.json(out, build);
    } else if (build.getState() == Build.State.SUCCEEDED) {
      out.println("index digest: " + build.getIndexDigest());
    }
    out.flush();
    return build.getState() == Build.State.SUCCEEDED ? 0 : Main.EXIT_BUILD_NOT_SUCCEEDED;
  }

  /** Polls until the build ends, printing a line for every change of the build or a platform. */
  private static Build follow(BuildfarmClient client, Build build, PrintWriter progress)
      throws InterruptedException {
    Map<String, String> shown = new HashMap<>();
    while (true) {
      show(shown, "", Printer.buildLine(build), progress);
      for (PlatformBuild p : build.getPlatformBuildsList()) {
        show(shown, p.getPlatform(), Printer.platformLine(p), progress);
      }
      progress.flush();
      if (ended(build.getState())) {
        return build;
      }
      Thread.sleep(POLL_INTERVAL.toMillis());
      build = client.get(build.getName());
    }
  }

  private static void show(Map<String, String> shown, String key, String line, PrintWriter out) {
    if (!line.equals(shown.put(key, line))) {
      out.println(line);
    }
  }

  static boolean ended(Build.State state) {
    return state == Build.State.SUCCEEDED
        || state == Build.State.FAILED
        || state == Build.State.CANCELLED;
  }
}
