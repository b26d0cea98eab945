package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.AgentPlatform;
import dev.buildfarm.api.v1.ListAgentsResponse;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "agents", mixinStandardHelpOptions = true,
    description = "List the farm's agents: state and, per platform, native or emulated and busy or idle.")
final class AgentsCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    try (BuildfarmClient client = main.client()) {
      ListAgentsResponse response = client.agents();
      PrintWriter out = spec.commandLine().getOut();
      if (main.json()) {
        Printer.json(out, response);
      } else {
        for (Agent agent : response.getAgentsList()) {
          out.println(agent.getName() + "  " + agent.getState().name()
              + (agent.hasLastSeenTime() ? "  last seen " + Printer.time(agent.getLastSeenTime()) : ""));
          for (AgentPlatform p : agent.getPlatformsList()) {
            out.println(String.format("  %-14s %-9s %s%s", p.getPlatform(),
                p.getEmulated() ? "emulated" : "native", p.getBusy() ? "busy" : "idle",
                p.getSlots() > 1 ? " " + p.getRunning() + "/" + p.getSlots() : ""));
          }
        }
      }
      out.flush();
      return 0;
    }
  }
}
