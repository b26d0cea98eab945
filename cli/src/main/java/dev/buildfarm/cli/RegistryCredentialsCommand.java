package dev.buildfarm.cli;

import dev.buildfarm.api.v1.DeleteRegistryCredentialRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsResponse;
import dev.buildfarm.api.v1.RegistryCredential;
import dev.buildfarm.api.v1.SetRegistryCredentialRequest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "registry-credentials", mixinStandardHelpOptions = true,
    description = "A namespace's logins for registries its builds push to (namespace ADMIN). Passwords are "
        + "never shown again and never taken as an option value.",
    subcommands = {RegistryCredentialsCommand.Set.class, RegistryCredentialsCommand.List.class,
        RegistryCredentialsCommand.Delete.class})
final class RegistryCredentialsCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  /** Where `set --password-stdin` reads (tests give their own). */
  static InputStream stdin = System.in;

  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "Missing required subcommand (set, list, delete)");
  }

  static void print(Main main, PrintWriter out, RegistryCredential credential) {
    if (main.json()) {
      Printer.json(out, credential);
      return;
    }
    out.println(credential.getName() + "  " + credential.getRegistry()
        + (credential.getRepositoryPrefix().isEmpty() ? "" : "  prefix " + credential.getRepositoryPrefix())
        + "  user " + credential.getUsername());
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Store the login for a registry (replacing the one for the same registry and prefix).")
  static final class Set implements Callable<Integer> {
    @ParentCommand RegistryCredentialsCommand parent;
    @Spec CommandSpec spec;
    @Option(names = "--namespace", paramLabel = "NS", defaultValue = "",
        description = "Namespace id (default: the token's own; required with an operator token).") String namespace;
    @Option(names = "--registry", required = true, paramLabel = "HOST[:PORT]",
        description = "e.g. registry.example.com or 127.0.0.1:5002.") String registry;
    @Option(names = "--repository-prefix", paramLabel = "PATH", defaultValue = "",
        description = "Only repositories HOST/NS/PATH[/...] (default: all of the namespace).") String prefix;
    @Option(names = "--username", required = true, paramLabel = "USER") String username;

    @ArgGroup(exclusive = true, multiplicity = "1")
    PasswordSource password;

    static final class PasswordSource {
      @Option(names = "--password-stdin", required = true, description = "Read the password from standard input.")
      boolean stdin;

      @Option(names = "--password-env", required = true, paramLabel = "VAR",
          description = "Take the password from the environment variable VAR.")
      String env;
    }

    @Override
    public Integer call() {
      String secret = password();
      try (BuildfarmClient client = parent.main.client()) {
        RegistryCredential stored = client.tenancy().setRegistryCredential(SetRegistryCredentialRequest.newBuilder()
            .setNamespace(namespace)
            .setCredential(RegistryCredential.newBuilder().setRegistry(registry).setRepositoryPrefix(prefix)
                .setUsername(username).setPassword(secret))
            .build());
        print(parent.main, spec.commandLine().getOut(), stored);
        spec.commandLine().getOut().flush();
        return 0;
      }
    }

    private String password() {
      String value;
      if (password.stdin) {
        try {
          value = new String(stdin.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
          throw new ParameterException(spec.commandLine(), "--password-stdin: cannot read standard input: " + e.getMessage());
        }
        // As `docker login --password-stdin`: the line's end is not part of it.
        value = value.endsWith("\r\n") ? value.substring(0, value.length() - 2)
            : value.endsWith("\n") ? value.substring(0, value.length() - 1) : value;
      } else {
        value = parent.main.environment.get(password.env);
        if (value == null) {
          throw new ParameterException(spec.commandLine(), "--password-env: the environment variable '" + password.env + "' is not set");
        }
      }
      if (value.isEmpty()) {
        throw new ParameterException(spec.commandLine(), "the password is empty");
      }
      return value;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List registry logins (never their passwords).")
  static final class List implements Callable<Integer> {
    @ParentCommand RegistryCredentialsCommand parent;
    @Spec CommandSpec spec;
    @Option(names = "--namespace", paramLabel = "NS", defaultValue = "",
        description = "Namespace id (default: the token's own; an operator sees every namespace).") String namespace;

    @Override
    public Integer call() {
      try (BuildfarmClient client = parent.main.client()) {
        ListRegistryCredentialsResponse response = client.tenancy().listRegistryCredentials(
            ListRegistryCredentialsRequest.newBuilder().setNamespace(namespace).build());
        PrintWriter out = spec.commandLine().getOut();
        if (parent.main.json()) {
          Printer.json(out, response);
        } else {
          response.getCredentialsList().forEach(c -> print(parent.main, out, c));
        }
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a registry login.")
  static final class Delete implements Callable<Integer> {
    @ParentCommand RegistryCredentialsCommand parent;
    @Spec CommandSpec spec;
    @Parameters(paramLabel = "NAME", description = "namespaces/NS/registryCredentials/ID") String name;

    @Override
    public Integer call() {
      try (BuildfarmClient client = parent.main.client()) {
        client.tenancy().deleteRegistryCredential(DeleteRegistryCredentialRequest.newBuilder().setName(name).build());
        if (!parent.main.json()) {
          spec.commandLine().getOut().println("deleted " + name);
          spec.commandLine().getOut().flush();
        }
        return 0;
      }
    }
  }
}
