package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "list", mixinStandardHelpOptions = true, description = "List builds, newest first.")
final class ListCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Option(names = "--page-size", paramLabel = "N",
      description = "Builds per page (the controller caps it at 100; 20 when not given).")
  int pageSize;

  @Option(names = "--page-token", paramLabel = "TOKEN",
      description = "Continue from the token a previous page printed.")
  String pageToken = "";

  @Override
  public Integer call() {
    try (BuildfarmClient client = main.client()) {
      ListBuildsResponse response = client.list(
          ListBuildsRequest.newBuilder().setPageSize(pageSize).setPageToken(pageToken).build());
      PrintWriter out = spec.commandLine().getOut();
      if (main.json()) {
        Printer.json(out, response);
      } else {
        for (Build b : response.getBuildsList()) {
          out.println(Printer.summaryLine(b));
        }
        if (!response.getNextPageToken().isEmpty()) {
          out.println("more: --page-token " + response.getNextPageToken());
        }
      }
      out.flush();
      return 0;
    }
  }
}
