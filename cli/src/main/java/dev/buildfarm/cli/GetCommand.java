package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "get", mixinStandardHelpOptions = true, description = "Show one build.")
final class GetCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Parameters(paramLabel = "NAME", description = "The build's name, e.g. builds/0123abcd.")
  String name;

  @Override
  public Integer call() {
    try (BuildfarmClient client = main.client()) {
      Build build = client.get(name);
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
