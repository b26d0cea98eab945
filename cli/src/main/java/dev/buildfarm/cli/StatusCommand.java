package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "status", aliases = "get", mixinStandardHelpOptions = true,
    description = "Show one build: its state and each platform's (state, agent, native or emulated, time).")
final class StatusCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "BUILD", description = "The build's name, e.g. builds/0123abcd (or just its id).")
  String name;

  @Override
  public Integer call() {
    try (BuildfarmClient client = main.client()) {
      Build build = client.get(Printer.buildName(name));
      PrintWriter out = spec.commandLine().getOut();
      if (main.json()) {
        Printer.json(out, build);
      } else {
        Printer.details(out, build);
      }
      out.flush();
      return 0;
    }
  }
}
