package dev.buildfarm.cli;

import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.DeleteRepositoryRequest;
import dev.buildfarm.api.v1.GetRepositoryRequest;
import dev.buildfarm.api.v1.ListRepositoriesRequest;
import dev.buildfarm.api.v1.ListRepositoriesResponse;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceBinding;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "repos", mixinStandardHelpOptions = true,
    description = "Image repositories bound to a git source; their rules build on push or by hand.",
    subcommands = {ReposCommand.List.class, ReposCommand.Get.class, ReposCommand.Create.class, ReposCommand.Delete.class})
final class ReposCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand (list, get, create, delete)");
  }

  static void print(Main main, PrintWriter out, Repository repo) {
    if (main.json()) {
      Printer.json(out, repo);
      return;
    }
    out.println(repo.getName() + "  " + repo.getImage() + "  " + repo.getSource().getUrl()
        + (repo.hasAutoBuild() && !repo.getAutoBuild() ? "  auto-build off" : "")
        + "  webhook " + repo.getWebhookPath());
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List repositories.")
  static final class List implements Callable<Integer> {
    @ParentCommand ReposCommand repos;
    @Spec CommandSpec spec;
    @Option(names = "--page-size", paramLabel = "N") int pageSize;
    @Option(names = "--page-token", paramLabel = "TOKEN") String pageToken = "";

    @Override
    public Integer call() {
      try (BuildfarmClient client = repos.main.client()) {
        ListRepositoriesResponse response = client.rules().listRepositories(
            ListRepositoriesRequest.newBuilder().setPageSize(pageSize).setPageToken(pageToken).build());
        PrintWriter out = spec.commandLine().getOut();
        if (repos.main.json()) {
          Printer.json(out, response);
        } else {
          response.getRepositoriesList().forEach(r -> print(repos.main, out, r));
          if (!response.getNextPageToken().isEmpty()) {
            out.println("more: --page-token " + response.getNextPageToken());
          }
        }
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one repository.")
  static final class Get implements Callable<Integer> {
    @ParentCommand ReposCommand repos;
    @Spec CommandSpec spec;
    @Parameters(paramLabel = "REPOSITORY") String repository;

    @Override
    public Integer call() {
      try (BuildfarmClient client = repos.main.client()) {
        Repository repo = client.rules().getRepository(
            GetRepositoryRequest.newBuilder().setName(RulesCommand.repositoryName(repository)).build());
        print(repos.main, spec.commandLine().getOut(), repo);
        spec.commandLine().getOut().flush();
        return 0;
      }
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a repository.")
  static final class Create implements Callable<Integer> {
    @ParentCommand ReposCommand repos;
    @Spec CommandSpec spec;
    @Parameters(paramLabel = "REPOSITORY_ID", description = "e.g. hello") String id;
    @Option(names = "--image", required = true, paramLabel = "HOST/PATH",
        description = "Target image repository, e.g. 127.0.0.1:5000/team/app.") String image;
    @Option(names = "--git-url", required = true, paramLabel = "URL") String gitUrl;
    @Option(names = "--webhook-secret", paramLabel = "SECRET",
        description = "Shared secret of push webhooks (HMAC key or GitLab token).") String webhookSecret = "";
    @Option(names = "--no-auto-build", description = "Do not build on push or poll.") boolean noAutoBuild;

    @Override
    public Integer call() {
      try (BuildfarmClient client = repos.main.client()) {
        Repository repo = client.rules().createRepository(CreateRepositoryRequest.newBuilder()
            .setRepositoryId(id)
            .setRepository(Repository.newBuilder().setImage(image).setAutoBuild(!noAutoBuild)
                .setSource(SourceBinding.newBuilder().setUrl(gitUrl).setWebhookSecret(webhookSecret)))
            .build());
        print(repos.main, spec.commandLine().getOut(), repo);
        spec.commandLine().getOut().flush();
        return 0;
      }
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a repository.")
  static final class Delete implements Callable<Integer> {
    @ParentCommand ReposCommand repos;
    @Spec CommandSpec spec;
    @Parameters(paramLabel = "REPOSITORY") String repository;
    @Option(names = "--force", description = "Delete its rules too.") boolean force;

    @Override
    public Integer call() {
      try (BuildfarmClient client = repos.main.client()) {
        String name = RulesCommand.repositoryName(repository);
        client.rules().deleteRepository(DeleteRepositoryRequest.newBuilder().setName(name).setForce(force).build());
        if (!repos.main.json()) {
          spec.commandLine().getOut().println("deleted " + name);
          spec.commandLine().getOut().flush();
        }
        return 0;
      }
    }
  }
}
