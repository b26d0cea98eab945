package dev.buildfarm.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/** The {@code buildfarm} command: global options and the mapping of failures to exit codes. */
@Command(
    name = "buildfarm",
    mixinStandardHelpOptions = true,
    version = "buildfarm 0.1.0",
    description = "Submit multi-arch container builds to a buildfarm controller and follow them.",
    subcommands = {SubmitCommand.class, GetCommand.class, ListCommand.class},
    footer = {
      "",
      "Exit codes:",
      "  0  ok (submit --wait: the build SUCCEEDED)",
      "  1  the build FAILED or was CANCELLED",
      "  2  usage error",
      "  3  the controller answered with an error",
      "  4  the controller is unreachable"
    })
public final class Main implements Callable<Integer> {

  // picocli already uses 0 (ok), 1 (uncaught exception) and 2 (usage error).
  static final int EXIT_BUILD_NOT_SUCCEEDED = 1;
  static final int EXIT_RPC_ERROR = 3;
  static final int EXIT_UNREACHABLE = 4;

  enum Output { text, json }

  // INHERIT: accepted before or after the subcommand name; the value lands in this field either way.
  @Option(
      names = "--endpoint",
      scope = ScopeType.INHERIT,
      defaultValue = "${env:BUILDFARM_ENDPOINT:-127.0.0.1:8080}",
      paramLabel = "HOST:PORT",
      description = "Controller gRPC endpoint (plaintext). Default: $BUILDFARM_ENDPOINT or 127.0.0.1:8080.")
  String endpoint;

  @Option(
      names = "--output",
      scope = ScopeType.INHERIT,
      defaultValue = "text",
      paramLabel = "text|json",
      description = "Output format (default: text). json prints the API messages as JSON.")
  Output output;

  @Spec CommandSpec spec;

  public static void main(String[] args) {
    System.exit(newCommandLine().execute(args));
  }

  /** The configured command line; tests use it with their own out/err writers. */
  static CommandLine newCommandLine() {
    Main main = new Main();
    CommandLine cl = new CommandLine(main);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler(main::handleExecutionException);
    cl.setParameterExceptionHandler(Main::handleParameterException);
    return cl;
  }

  /** A usage error: the message and a pointer to --help, not the whole usage text. */
  private static int handleParameterException(ParameterException ex, String[] args) {
    CommandLine cl = ex.getCommandLine();
    cl.getErr().println("error: " + ex.getMessage());
    cl.getErr().println("Try '" + cl.getCommandSpec().qualifiedName() + " --help' for usage.");
    cl.getErr().flush();
    return cl.getCommandSpec().exitCodeOnInvalidInput(); // 2
  }

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand (submit, get, list)");
  }

  BuildfarmClient client() {
    return new BuildfarmClient(endpoint);
  }

  boolean json() {
    return output == Output.json;
  }

  /** A gRPC failure is an expected outcome for a CLI: one line, no stack trace, a distinct code. */
  private int handleExecutionException(Exception ex, CommandLine cl, ParseResult parsed)
      throws Exception {
    if (!(ex instanceof StatusRuntimeException sre)) {
      throw ex; // a bug: let picocli print the stack trace (exit 1)
    }
    Status status = sre.getStatus();
    String message = status.getDescription();
    if (message == null && status.getCause() != null) {
      message = status.getCause().getMessage();
    }
    String line = "error: " + status.getCode() + ": " + (message == null ? "" : message);
    if (status.getCode() == Status.Code.UNAVAILABLE) {
      cl.getErr().println(line + " (is the controller reachable at " + endpoint
          + "? set --endpoint or BUILDFARM_ENDPOINT)");
      cl.getErr().flush();
      return EXIT_UNREACHABLE;
    }
    cl.getErr().println(line);
    cl.getErr().flush();
    return EXIT_RPC_ERROR;
  }
}
