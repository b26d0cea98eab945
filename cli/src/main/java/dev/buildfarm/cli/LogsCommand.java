package dev.buildfarm.cli;

import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import java.io.PrintWriter;
import java.util.Iterator;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "logs", mixinStandardHelpOptions = true,
    description = "Print a build's log, each line prefixed by its platform.")
final class LogsCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "BUILD", description = "The build's name, e.g. builds/0123abcd (or just its id).")
  String name;

  @Option(names = "--platform", paramLabel = "PLATFORM", defaultValue = "",
      description = "Only this platform's lines, e.g. linux/arm64 (default: all).")
  String platform;

  @Option(names = {"-f", "--follow"}, description = "Keep printing new lines until the build ends.")
  boolean follow;

  @Option(names = "--offset", paramLabel = "N", defaultValue = "0",
      description = "Start at this line of each platform's log (from 0).")
  long offset;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    try (BuildfarmClient client = main.client()) {
      Iterator<LogChunk> chunks = client.logs(StreamBuildLogsRequest.newBuilder()
          .setName(Printer.buildName(name))
          .setPlatform(platform)
          .setOffset(offset)
          .setFollow(follow)
          .build());
      while (chunks.hasNext()) {
        for (BuildLogLine line : chunks.next().getLinesList()) {
          if (main.json()) {
            Printer.jsonLine(out, line);
          } else {
            out.println(Printer.logLine(line));
          }
        }
        out.flush();
      }
    }
    return 0;
  }
}
