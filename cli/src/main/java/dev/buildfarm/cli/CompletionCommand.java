package dev.buildfarm.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Print a shell completion script.",
        "bash: source <(buildfarm completion bash)",
        "zsh:  autoload -U +X bashcompinit && bashcompinit && source <(buildfarm completion bash)"})
final class CompletionCommand implements Callable<Integer> {

  enum Shell { bash }

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "SHELL", defaultValue = "bash", description = "Only bash (zsh can load it too).")
  Shell shell;

  @Override
  public Integer call() {
    String script = AutoComplete.bash("buildfarm", spec.root().commandLine());
    spec.commandLine().getOut().print(script);
    spec.commandLine().getOut().flush();
    return 0;
  }
}
