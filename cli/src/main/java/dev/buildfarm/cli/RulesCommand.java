package dev.buildfarm.cli;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildParameter;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.DeleteBuildRuleRequest;
import dev.buildfarm.api.v1.GetBuildRuleRequest;
import dev.buildfarm.api.v1.ListBuildRulesRequest;
import dev.buildfarm.api.v1.ListBuildRulesResponse;
import dev.buildfarm.api.v1.RunBuildRuleRequest;
import dev.buildfarm.api.v1.TagConfig;
import java.io.PrintWriter;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

@Command(name = "rules", mixinStandardHelpOptions = true,
    description = "Build rules of a repository: which branches or tags build, with which tags and platforms.",
    subcommands = {RulesCommand.List.class, RulesCommand.Get.class, RulesCommand.Create.class,
        RulesCommand.Delete.class, RulesCommand.Run.class})
final class RulesCommand implements Callable<Integer> {

  @ParentCommand Main main;
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "Missing required subcommand (list, get, create, delete, run)");
  }

  /** "hello" → "repositories/hello"; a full name is kept. */
  static String repositoryName(String value) {
    return value.startsWith("repositories/") ? value : "repositories/" + value;
  }

  /** "hello/releases" → "repositories/hello/rules/releases"; a full name is kept. */
  static String ruleName(String value) {
    if (value.startsWith("repositories/")) {
      return value;
    }
    int slash = value.indexOf('/');
    if (slash < 0) {
      throw new Main.UserError("'" + value + "' is not a rule; use REPOSITORY/RULE, e.g. hello/releases", Main.EXIT_USAGE);
    }
    return "repositories/" + value.substring(0, slash) + "/rules/" + value.substring(slash + 1);
  }

  static void print(Main main, PrintWriter out, BuildRule rule) {
    if (main.json()) {
      Printer.json(out, rule);
      return;
    }
    out.println(rule.getName() + "  " + rule.getRefType().name().toLowerCase() + " " + rule.getRefPattern()
        + (rule.getSystemTriggerOnly() ? "  (push/poll only)" : ""));
    out.println("  tags       " + String.join(", ", rule.getTagsList().stream().map(RulesCommand::tagSpec).toList()));
    out.println("  platforms  " + String.join(",", rule.getPlatformsList()));
    out.println("  dockerfile " + (rule.getDockerfileDirectory().isEmpty() ? "." : rule.getDockerfileDirectory())
        + "/" + rule.getDockerfileName() + (rule.getNoCache() ? "  no-cache" : ""));
    rule.getBuildParametersList().forEach(p -> out.println("  build-arg  " + p.getKey() + "=" + p.getValue()));
  }

  /** The --image-tag syntax back: TEMPLATE[,time=FORMAT][,commit[=N]]. */
  static String tagSpec(TagConfig tag) {
    StringBuilder s = new StringBuilder(tag.getTemplate());
    if (!tag.getBuildTimeFormat().isEmpty()) {
      s.append(",time=").append(tag.getBuildTimeFormat());
    }
    if (tag.getCommitIdSuffix()) {
      s.append(",commit").append(tag.getCommitIdLength() > 0 ? "=" + tag.getCommitIdLength() : "");
    }
    return s.toString();
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List a repository's rules.")
  static final class List implements Callable<Integer> {
    @ParentCommand RulesCommand rules;
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "REPOSITORY", description = "e.g. hello or repositories/hello.")
    String repository;

    @Option(names = "--page-size", paramLabel = "N") int pageSize;
    @Option(names = "--page-token", paramLabel = "TOKEN") String pageToken = "";

    @Override
    public Integer call() {
      try (BuildfarmClient client = rules.main.client()) {
        ListBuildRulesResponse response = client.rules().listBuildRules(ListBuildRulesRequest.newBuilder()
            .setParent(repositoryName(repository)).setPageSize(pageSize).setPageToken(pageToken).build());
        PrintWriter out = spec.commandLine().getOut();
        if (rules.main.json()) {
          Printer.json(out, response);
        } else {
          response.getRulesList().forEach(r -> print(rules.main, out, r));
          if (!response.getNextPageToken().isEmpty()) {
            out.println("more: --page-token " + response.getNextPageToken());
          }
        }
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one rule.")
  static final class Get implements Callable<Integer> {
    @ParentCommand RulesCommand rules;
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "RULE", description = "REPOSITORY/RULE, e.g. hello/releases.")
    String rule;

    @Override
    public Integer call() {
      try (BuildfarmClient client = rules.main.client()) {
        BuildRule found = client.rules().getBuildRule(GetBuildRuleRequest.newBuilder().setName(ruleName(rule)).build());
        PrintWriter out = spec.commandLine().getOut();
        print(rules.main, out, found);
        out.flush();
        return 0;
      }
    }
  }

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = {"Create a rule.", "e.g. buildfarm rules create hello releases --tag-pattern 'release-(?<v>.*)' "
          + "--image-tag '${v}' --image-tag 'latest,time=yyyyMMdd' --platform linux/amd64,linux/arm64"})
  static final class Create implements Callable<Integer> {
    @ParentCommand RulesCommand rules;
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "REPOSITORY") String repository;
    @Parameters(index = "1", paramLabel = "RULE_ID", description = "The new rule's id, e.g. releases.") String ruleId;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Ref ref;

    static final class Ref {
      @Option(names = "--branch", required = true, paramLabel = "PATTERN",
          description = "Branch name, or a regex with named groups.") String branch;
      @Option(names = "--git-tag", required = true, paramLabel = "PATTERN",
          description = "Git tag name, or a regex with named groups.") String tag;
    }

    @Option(names = "--image-tag", required = true, paramLabel = "TEMPLATE[,time=FMT][,commit[=N]]",
        converter = TagConverter.class,
        description = "Image tag to render, 1 to 3: a template with ${group}s, optionally suffixed by the "
            + "push time (yyyyMMdd or yyyyMMddHHmm) and the commit id (N characters, default 6).")
    java.util.List<TagConfig> tags;

    @Option(names = "--platform", required = true, split = "\\s*,\\s*", paramLabel = "PLATFORM")
    java.util.List<String> platforms;

    @Option(names = "--context", paramLabel = "DIR", defaultValue = "",
        description = "Build context directory inside the repository.") String directory;
    @Option(names = "--file", paramLabel = "NAME", defaultValue = "", description = "Dockerfile name.") String file;
    @Option(names = "--build-arg", paramLabel = "KEY=VALUE", converter = BuildArg.Converter.class)
    java.util.List<BuildArg> buildArgs = java.util.List.of();
    @Option(names = "--no-cache") boolean noCache;
    @Option(names = "--time-zone", paramLabel = "ZONE", defaultValue = "",
        description = "Zone of build-time suffixes (default +08:00).") String timeZone;

    @Override
    public Integer call() {
      BuildRule.Builder rule = BuildRule.newBuilder()
          .setRefType(ref.branch != null ? BuildRule.RefType.BRANCH : BuildRule.RefType.TAG)
          .setRefPattern(ref.branch != null ? ref.branch : ref.tag)
          .addAllTags(tags)
          .addAllPlatforms(platforms)
          .setDockerfileDirectory(directory)
          .setDockerfileName(file)
          .setNoCache(noCache)
          .setTimeZone(timeZone);
      buildArgs.forEach(a -> rule.addBuildParameters(BuildParameter.newBuilder().setKey(a.key()).setValue(a.value())));
      try (BuildfarmClient client = rules.main.client()) {
        BuildRule created = client.rules().createBuildRule(CreateBuildRuleRequest.newBuilder()
            .setParent(repositoryName(repository)).setRuleId(ruleId).setRule(rule).build());
        PrintWriter out = spec.commandLine().getOut();
        print(rules.main, out, created);
        out.flush();
        return 0;
      }
    }
  }

  static final class TagConverter implements ITypeConverter<TagConfig> {
    @Override
    public TagConfig convert(String value) {
      String[] parts = value.split(",");
      TagConfig.Builder tag = TagConfig.newBuilder().setTemplate(parts[0]);
      for (int i = 1; i < parts.length; i++) {
        String part = parts[i].strip();
        if (part.startsWith("time=")) {
          tag.setBuildTimeFormat(part.substring(5));
        } else if (part.equals("commit")) {
          tag.setCommitIdSuffix(true);
        } else if (part.startsWith("commit=")) {
          try {
            tag.setCommitIdSuffix(true).setCommitIdLength(Integer.parseInt(part.substring(7)));
          } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + part + "': commit=N needs a number");
          }
        } else {
          throw new TypeConversionException("'" + part + "': expected time=FORMAT, commit or commit=N");
        }
      }
      return tag.build();
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete a rule.")
  static final class Delete implements Callable<Integer> {
    @ParentCommand RulesCommand rules;
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "RULE", description = "REPOSITORY/RULE.") String rule;

    @Override
    public Integer call() {
      try (BuildfarmClient client = rules.main.client()) {
        String name = ruleName(rule);
        client.rules().deleteBuildRule(DeleteBuildRuleRequest.newBuilder().setName(name).build());
        if (!rules.main.json()) {
          spec.commandLine().getOut().println("deleted " + name);
          spec.commandLine().getOut().flush();
        }
        return 0;
      }
    }
  }

  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Build the rule's branch or tag at its current commit.")
  static final class Run implements Callable<Integer> {
    @ParentCommand RulesCommand rules;
    @Spec CommandSpec spec;

    @Parameters(paramLabel = "RULE", description = "REPOSITORY/RULE.") String rule;
    @Option(names = "--request-id", paramLabel = "ID") String requestId;
    @Option(names = {"-f", "--follow"}, description = "Show status and logs until the build ends.") boolean follow;
    @Option(names = "--wait", description = "Wait for the end, printing each state change.") boolean waitForEnd;

    @Override
    public Integer call() throws InterruptedException {
      try (BuildfarmClient client = rules.main.client()) {
        Build build = client.rules().runBuildRule(RunBuildRuleRequest.newBuilder().setName(ruleName(rule))
            .setRequestId(requestId != null ? requestId : UUID.randomUUID().toString()).build());
        return SubmitCommand.afterSubmit(rules.main, spec, client, build, waitForEnd, follow);
      }
    }
  }
}
