package dev.buildfarm.controller.rules;

import dev.buildfarm.api.v1.BuildParameter;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.TagConfig;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.api.ApiError.Violation;
import dev.buildfarm.controller.build.BuildSpecValidator;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Checks a build rule and returns it normalised (defaults filled, platforms canonical), or throws
 * INVALID_ARGUMENT with one field violation per problem. Everything that can be known before a push
 * is checked here: the regex compiles, templates name only groups of the pattern, and tags that
 * render invalid whatever the ref (illegal literal characters, too long) are refused.
 */
public final class RuleValidator {

    public static final int MAX_TAG_CONFIGS = 3;

    // Stand-ins used to render a rule's tags at creation: one letter per group, a fixed time, a commit.
    private static final String SAMPLE_GROUP_VALUE = "a";
    private static final Instant SAMPLE_TIME = Instant.parse("2020-10-15T08:13:00Z");
    private static final String SAMPLE_COMMIT = "0123456789abcdef0123456789abcdef01234567";

    private final BuildSpecValidator specs;

    public RuleValidator(BuildSpecValidator specs) {
        this.specs = specs;
    }

    /**
     * @param field the request's field holding the rule, e.g. "rule"; violations are named under it
     */
    public BuildRule validate(BuildRule rule, String field) {
        List<Violation> violations = new ArrayList<>();
        BuildRule.Builder out = rule.toBuilder()
                .clearName().clearUid().clearCreateTime().clearUpdateTime().clearSystemTriggerOnly();

        if (rule.getRefType() != BuildRule.RefType.BRANCH && rule.getRefType() != BuildRule.RefType.TAG) {
            violations.add(new Violation(field + ".ref_type", "must be BRANCH or TAG"));
        }
        RefPattern pattern = null;
        try {
            pattern = RefPattern.compile(rule.getRefPattern());
        } catch (IllegalArgumentException e) {
            violations.add(new Violation(field + ".ref_pattern", e.getMessage()));
        }
        ZoneId zone = RuleTags.DEFAULT_ZONE;
        try {
            zone = RuleTags.zone(rule.getTimeZone());
        } catch (DateTimeException e) {
            violations.add(new Violation(field + ".time_zone", "'" + rule.getTimeZone()
                    + "' is not a time zone; use an offset such as +08:00 or a region such as Asia/Shanghai"));
        }
        out.setTimeZone(zone.getId());

        out.clearTags();
        checkTags(rule, field, pattern, zone, violations).forEach(out::addTags);
        checkBuildParameters(rule.getBuildParametersList(), field, violations);

        BuildSpec spec = probeSpec(rule);
        try {
            spec = specs.validate(spec);
        } catch (ApiError e) {
            e.violations().stream().map(v -> renamed(v, field, rule)).filter(v -> v != null).forEach(violations::add);
        }
        if (!violations.isEmpty()) {
            throw ApiError.invalid(violations);
        }
        return out.setDockerfileDirectory(spec.getDockerfileDirectory())
                .setDockerfileName(spec.getDockerfileName())
                .clearPlatforms().addAllPlatforms(spec.getPlatformsList())
                .build();
    }

    /** Why only the system may trigger a rule (the seed's wording); empty when anyone may. */
    public static List<String> systemTriggerReasons(BuildRule rule) {
        List<String> reasons = new ArrayList<>();
        if (RefPattern.isRegex(rule.getRefPattern())) {
            reasons.add("its ref_pattern '" + rule.getRefPattern() + "' is a regular expression, so it names no single ref");
        }
        for (int i = 0; i < rule.getTagsCount(); i++) {
            if (!rule.getTags(i).getBuildTimeFormat().isEmpty()) {
                reasons.add("tags[" + i + "] has a build-time suffix, which only a push has");
            }
            if (rule.getTags(i).getCommitIdSuffix()) {
                reasons.add("tags[" + i + "] has a commit-id suffix, which only a push has");
            }
        }
        return reasons;
    }

    private static List<TagConfig> checkTags(BuildRule rule, String field, RefPattern pattern, ZoneId zone,
            List<Violation> violations) {
        List<TagConfig> configs = rule.getTagsList();
        if (configs.isEmpty()) {
            violations.add(new Violation(field + ".tags", "at least one tag configuration is required"));
        }
        if (configs.size() > MAX_TAG_CONFIGS) {
            violations.add(new Violation(field + ".tags", configs.size() + " tag configurations given; at most "
                    + MAX_TAG_CONFIGS + " are supported"));
        }
        List<TagConfig> normalised = new ArrayList<>();
        Map<String, Integer> fixedTags = new HashMap<>();
        for (int i = 0; i < configs.size(); i++) {
            TagConfig config = configs.get(i);
            String at = field + ".tags[" + i + "]";
            int before = violations.size();
            TagTemplate template = null;
            try {
                template = TagTemplate.parse(config.getTemplate());
            } catch (IllegalArgumentException e) {
                violations.add(new Violation(at + ".template", e.getMessage()));
            }
            if (template != null && pattern != null) {
                for (String group : template.groups()) {
                    if (!pattern.groups().contains(group)) {
                        violations.add(new Violation(at + ".template", "'" + config.getTemplate() + "' refers to ${" + group
                                + "}, which ref_pattern does not define" + (pattern.groups().isEmpty()
                                        ? " (it has no named groups; write one as (?<" + group + ">Expression))"
                                        : "; its groups are " + pattern.groups())));
                    }
                }
            }
            if (!config.getBuildTimeFormat().isEmpty() && !RuleTags.TIME_FORMATS.contains(config.getBuildTimeFormat())) {
                violations.add(new Violation(at + ".build_time_format", "'" + config.getBuildTimeFormat()
                        + "' is not a supported format; use yyyyMMdd or yyyyMMddHHmm, or leave it empty"));
            }
            TagConfig.Builder tag = config.toBuilder();
            if (config.getCommitIdSuffix()) {
                int length = config.getCommitIdLength() == 0 ? RuleTags.DEFAULT_COMMIT_LENGTH : config.getCommitIdLength();
                if (length < RuleTags.MIN_COMMIT_LENGTH || length > RuleTags.MAX_COMMIT_LENGTH) {
                    violations.add(new Violation(at + ".commit_id_length", config.getCommitIdLength() + " is out of range; use "
                            + RuleTags.MIN_COMMIT_LENGTH + " to " + RuleTags.MAX_COMMIT_LENGTH + ", or 0 for "
                            + RuleTags.DEFAULT_COMMIT_LENGTH));
                }
                tag.setCommitIdLength(length);
            } else if (config.getCommitIdLength() != 0) {
                violations.add(new Violation(at + ".commit_id_length", "is set but commit_id_suffix is false"));
            }
            if (violations.size() == before && template != null && pattern != null) {
                // Render with stand-ins: what breaks here breaks for every ref.
                Map<String, String> sample = template.groups().stream()
                        .collect(Collectors.toMap(Function.identity(), g -> SAMPLE_GROUP_VALUE));
                String rendered = RuleTags.render(tag.build(), zone, sample, SAMPLE_TIME, SAMPLE_COMMIT);
                if (!RuleTags.OCI_TAG.matcher(rendered).matches()) {
                    violations.add(new Violation(at + ".template", "'" + config.getTemplate() + "' renders tags such as '"
                            + rendered + "', which break the OCI tag grammar [A-Za-z0-9_][A-Za-z0-9._-]{0,127}"));
                } else if (template.groups().isEmpty() && config.getBuildTimeFormat().isEmpty() && !config.getCommitIdSuffix()) {
                    Integer earlier = fixedTags.putIfAbsent(rendered, i);
                    if (earlier != null) {
                        violations.add(new Violation(at, "always renders '" + rendered + "', as tags[" + earlier + "] does"));
                    }
                }
            }
            normalised.add(tag.build());
        }
        return normalised;
    }

    private static void checkBuildParameters(List<BuildParameter> parameters, String field, List<Violation> violations) {
        if (parameters.size() > BuildSpecValidator.MAX_BUILD_ARGS) {
            violations.add(new Violation(field + ".build_parameters", parameters.size() + " build parameters given; at most "
                    + BuildSpecValidator.MAX_BUILD_ARGS + " are supported"));
        }
        Map<String, Integer> seen = new HashMap<>();
        for (int i = 0; i < parameters.size(); i++) {
            Integer earlier = seen.putIfAbsent(parameters.get(i).getKey(), i);
            if (earlier != null) {
                violations.add(new Violation(field + ".build_parameters[" + i + "]", "key '" + parameters.get(i).getKey()
                        + "' is already given by build_parameters[" + earlier + "] (keys are case-sensitive)"));
            }
        }
    }

    /** A spec with stand-in source, repository and tags, so BuildSpecValidator checks the rule's other fields. */
    private static BuildSpec probeSpec(BuildRule rule) {
        Map<String, String> args = new LinkedHashMap<>();
        rule.getBuildParametersList().forEach(p -> args.putIfAbsent(p.getKey(), p.getValue()));
        return BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl("https://probe.invalid/probe.git").setRef("probe"))
                .setRepository("probe.invalid/probe/probe")
                .addTags("probe")
                .setDockerfileDirectory(rule.getDockerfileDirectory())
                .setDockerfileName(rule.getDockerfileName())
                .addAllPlatforms(rule.getPlatformsList())
                .putAllBuildArgs(args)
                .build();
    }

    /** spec.platforms[1] → rule.platforms[1], spec.build_args[KEY] → rule.build_parameters[i]. */
    private static Violation renamed(Violation v, String field, BuildRule rule) {
        String name = v.field();
        if (name.equals("spec.build_args")) {
            return null; // counted by checkBuildParameters, duplicates included
        }
        if (name.startsWith("spec.build_args[")) {
            String key = name.substring("spec.build_args[".length(), name.length() - 1);
            for (int i = 0; i < rule.getBuildParametersCount(); i++) {
                if (rule.getBuildParameters(i).getKey().equals(key)) {
                    return new Violation(field + ".build_parameters[" + i + "]", v.description());
                }
            }
            return new Violation(field + ".build_parameters", v.description());
        }
        for (String own : Set.of("dockerfile_directory", "dockerfile_name", "platforms")) {
            if (name.startsWith("spec." + own)) {
                return new Violation(field + name.substring("spec".length()), v.description());
            }
        }
        return new Violation(field, v.description());
    }
}
