package dev.buildfarm.cli;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.Map;
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
    subcommands = {
      BuildCommand.class, SubmitCommand.class, StatusCommand.class, LogsCommand.class,
      CancelCommand.class, ListCommand.class, AgentsCommand.class, RulesCommand.class,
      ReposCommand.class, RegistryCredentialsCommand.class, CompletionCommand.class
    },
    footer = {
      "",
      "Endpoint, token and TLS files: --endpoint/--token/--tls-ca/--tls-cert/--tls-key, else",
      "$BUILDFARM_ENDPOINT/$BUILDFARM_TOKEN/$BUILDFARM_TLS_CA/$BUILDFARM_TLS_CERT/$BUILDFARM_TLS_KEY,",
      "else the config file ($BUILDFARM_CONFIG or ~/.config/buildfarm/config: lines such as",
      "'endpoint = https://HOST:PORT', 'token = TOKEN', 'tls-ca = FILE'), else 127.0.0.1:8080",
      "without a token. https://HOST:PORT speaks TLS, http://HOST:PORT plaintext; a bare HOST:PORT",
      "speaks TLS when a TLS file is given.",
      "",
      "Exit codes:",
      "  0  ok (with --follow/--wait: the build SUCCEEDED)",
      "  1  the build FAILED or was CANCELLED",
      "  2  usage error",
      "  3  the controller answered with an error",
      "  4  the controller is unreachable"
    })
public final class Main implements Callable<Integer> {

  /** Where NAME-only secret arguments and --password-env read from (tests give their own). */
  Map<String, String> environment = System.getenv();

  // picocli already uses 0 (ok), 1 (uncaught exception) and 2 (usage error).
  static final int EXIT_BUILD_NOT_SUCCEEDED = 1;
  static final int EXIT_USAGE = 2;
  static final int EXIT_RPC_ERROR = 3;
  static final int EXIT_UNREACHABLE = 4;

  enum Output { text, json }

  enum Progress { auto, tty, plain }

  // INHERIT: accepted before or after the subcommand name; the value lands in this field either way.
  // Defaults come from the environment and the config file (see Defaults).
  @Option(
      names = "--endpoint",
      scope = ScopeType.INHERIT,
      paramLabel = "[https://]HOST:PORT",
      description = "Controller gRPC endpoint; https:// for TLS. Default: $BUILDFARM_ENDPOINT, the config file, or 127.0.0.1:8080.")
  String endpoint;

  @Option(
      names = "--tls-ca",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "PEM certificate(s) of the CA that signed the controller's certificate (TLS). "
          + "Default: $BUILDFARM_TLS_CA, the config file's tls-ca, or the JVM's trusted roots.")
  String tlsCa;

  @Option(
      names = "--tls-cert",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "PEM client certificate, for a controller that requires one (mutual TLS). "
          + "Default: $BUILDFARM_TLS_CERT or the config file's tls-cert.")
  String tlsCert;

  @Option(
      names = "--tls-key",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "PEM (PKCS#8) private key of --tls-cert. Default: $BUILDFARM_TLS_KEY or the config file's tls-key.")
  String tlsKey;

  @Option(
      names = "--token",
      scope = ScopeType.INHERIT,
      paramLabel = "TOKEN",
      description = "Sent as 'authorization: Bearer TOKEN'. Default: $BUILDFARM_TOKEN or the config file.")
  String token;

  @Option(
      names = "--output",
      scope = ScopeType.INHERIT,
      defaultValue = "text",
      paramLabel = "text|json",
      description = "Output format (default: text). json prints the API messages as JSON.")
  Output output;

  @Option(
      names = "--progress",
      scope = ScopeType.INHERIT,
      defaultValue = "auto",
      paramLabel = "auto|tty|plain",
      description = "How --follow shows status: a live line (tty), a line per change (plain), "
          + "or tty when the terminal is interactive (auto, the default).")
  Progress progress;

  @Spec CommandSpec spec;

  // Held so the setting is not garbage-collected with the logger.
  private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

  public static void main(String[] args) {
    // grpc logs resolver and transport failures with stack traces; the CLI reports them as one line.
    GRPC_LOG.setLevel(java.util.logging.Level.OFF);
    System.exit(newCommandLine().execute(args));
  }

  /** The configured command line; tests use it with their own out/err writers. */
  static CommandLine newCommandLine() {
    Main main = new Main();
    CommandLine cl = new CommandLine(main);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setDefaultValueProvider(new Defaults(System.getenv()));
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
    throw new ParameterException(spec.commandLine(),
        "Missing required subcommand (build, submit, status, logs, cancel, list, agents, rules, repos, completion)");
  }

  BuildfarmClient client() {
    Endpoint target;
    try {
      target = Endpoint.of(endpoint, tlsCa, tlsCert, tlsKey);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    try {
      return new BuildfarmClient(target, token);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--endpoint '" + endpoint + "': " + e.getMessage());
    }
  }

  boolean json() {
    return output == Output.json;
  }

  /** Whether --follow redraws one live status line: only on an interactive terminal. */
  boolean liveStatus() {
    return switch (progress) {
      case tty -> true;
      case plain -> false;
      case auto -> System.console() != null && System.getenv("TERM") != null
          && !"dumb".equals(System.getenv("TERM"));
    };
  }

  /**
   * Expected failures are one line and a distinct exit code, never a stack trace: a gRPC status, a
   * usage error found while running (a missing directory), or a problem with local files.
   */
  private int handleExecutionException(Exception ex, CommandLine cl, ParseResult parsed) {
    if (ex instanceof ParameterException pe) {
      return handleParameterException(pe, parsed.originalArgs().toArray(String[]::new));
    }
    if (ex instanceof UserError ue) {
      return fail(cl, "error: " + ue.getMessage(), ue.exitCode);
    }
    if (!(ex instanceof StatusRuntimeException sre)) {
      if (System.getenv("BUILDFARM_DEBUG") != null) {
        ex.printStackTrace(cl.getErr());
      }
      String message = ex.getMessage() == null ? ex.getClass().getSimpleName() : ex.getMessage();
      return fail(cl, "error: " + message, 1);
    }
    Status status = sre.getStatus();
    if (status.getCode() == Status.Code.UNAVAILABLE) {
      // grpc's own description ("io exception") says less than the socket error under it.
      Throwable root = status.getCause();
      while (root != null && root.getCause() != null) {
        root = root.getCause();
      }
      String why = root != null && root.getMessage() != null ? root.getMessage()
          : status.getDescription() == null ? "" : status.getDescription();
      return fail(cl, "error: UNAVAILABLE: cannot reach the controller at " + endpoint + " (" + why
          + "); set --endpoint, BUILDFARM_ENDPOINT or the config file", EXIT_UNREACHABLE);
    }
    String message = status.getDescription();
    if (message == null && status.getCause() != null) {
      message = status.getCause().getMessage();
    }
    return fail(cl, "error: " + status.getCode() + ": " + (message == null ? "" : message), EXIT_RPC_ERROR);
  }

  private static int fail(CommandLine cl, String line, int code) {
    cl.getErr().println(line);
    cl.getErr().flush();
    return code;
  }

  /** A failure the user can fix, with the exit code it maps to. */
  static final class UserError extends RuntimeException {
    final int exitCode;

    UserError(String message, int exitCode) {
      super(message);
      this.exitCode = exitCode;
    }
  }
}
