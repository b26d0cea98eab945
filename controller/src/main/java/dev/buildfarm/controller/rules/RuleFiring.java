package dev.buildfarm.controller.rules;

import com.google.protobuf.Timestamp;
import dev.buildfarm.api.v1.BuildParameter;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GitSource;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.BuildSubmission;
import dev.buildfarm.controller.rules.RuleNames.RuleName;
import dev.buildfarm.controller.rules.RuleStore.MatchedRule;
import dev.buildfarm.controller.rules.RuleStore.Source;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.jboss.logging.Logger;

/**
 * Turns rules into builds: every rule matching a pushed ref fires one build of the pushed commit,
 * and RunBuildRule builds a rule's ref at its current commit. Builds are made only through
 * BuildSubmission, each in its own transaction with its jobs.
 *
 * <p>A rule fires at most once per (rule, ref, commit): the request_id is derived from them, so a
 * redelivered webhook, a poll after a push, or two controllers seeing one push build once.
 */
@ApplicationScoped
public class RuleFiring {

    private static final Logger LOG = Logger.getLogger(RuleFiring.class);
    public static final String HEADS = "refs/heads/";
    public static final String TAGS = "refs/tags/";

    /** A ref that moved: full ref name, the commit now on it, the delivery id (may be ""), when. */
    public record Push(String ref, String commit, String eventId, Instant time) {
    }

    /** What one matching rule did with a push. */
    public record Outcome(String rule, Result result, String build, List<String> tags, String reason) {
        public enum Result {
            /** A new build was queued. */
            STARTED,
            /** This rule already built this commit of this ref. */
            EXISTING,
            /** The rule could not build it (e.g. a rendered tag breaks the OCI grammar). */
            REFUSED
        }
    }

    @Inject
    RuleStore rules;

    @Inject
    BuildStore builds;

    @Inject
    BuildSubmission submission;

    @Inject
    SourceRefs sourceRefs;

    @Inject
    Clock clock;

    /** Fires every rule of the source that matches the pushed ref. Refs other than branches and tags fire nothing. */
    public List<Outcome> fire(Source source, Push push, Trigger.Kind kind) {
        Optional<BuildRule.RefType> type = refType(push.ref());
        if (type.isEmpty()) {
            return List.of();
        }
        String shortName = push.ref().substring(type.get() == BuildRule.RefType.BRANCH ? HEADS.length() : TAGS.length());
        List<Outcome> outcomes = new ArrayList<>();
        for (MatchedRule matched : rules.matching(source, type.get(), shortName)) {
            outcomes.add(fireOne(source, matched, push, kind));
        }
        return outcomes;
    }

    private Outcome fireOne(Source source, MatchedRule matched, Push push, Trigger.Kind kind) {
        String requestId = requestId(matched.uid(), push.ref(), push.commit());
        Trigger trigger = Trigger.newBuilder().setKind(kind).setRule(matched.name()).setRef(push.ref())
                .setEventId(push.eventId()).setEventTime(timestamp(push.time())).build();
        List<String> tags;
        try {
            tags = RuleTags.render(matched.rule(), matched.groups(), push.time(), push.commit());
        } catch (RuleTags.RenderException e) {
            Optional<BuildEntity> earlier = builds.findByRequestId(BuildStore.namespaceOf(source.image()), requestId);
            if (earlier.isPresent()) {
                return existing(matched, earlier.get());
            }
            // Kept as a FAILED build with the reason (and its event), so the push is not silently lost.
            BuildEntity failed = builds.createFailed(requestId, spec(source, matched.rule(), push.commit(), List.of()),
                    push.commit(), trigger, "tag rendering: " + e.getMessage());
            return refused(matched, push, failed.name(), e.getMessage());
        }
        try {
            // One request_id lookup: the submission answers an earlier build of this (rule, ref, commit) itself.
            BuildSubmission.Submitted submitted = submission.submitOrFind(requestId, spec(source, matched.rule(), push.commit(), tags), trigger);
            return submitted.created()
                    ? new Outcome(matched.name(), Outcome.Result.STARTED, submitted.build().name(), tags, "")
                    : existing(matched, submitted.build());
        } catch (ApiError e) {
            // Built before with another spec (the rule changed since, or the push time moved a time suffix).
            Optional<BuildEntity> earlier = builds.findByRequestId(BuildStore.namespaceOf(source.image()), requestId);
            return earlier.isPresent() ? existing(matched, earlier.get()) : refused(matched, push, "", e.getMessage());
        }
    }

    /** RunBuildRule: the rule's own branch or tag at its current commit, for rules anyone may trigger. */
    public BuildEntity run(RuleName name, String requestId) {
        BuildRule rule = rules.getRule(name);
        List<String> reasons = RuleValidator.systemTriggerReasons(rule);
        if (!reasons.isEmpty()) {
            throw ApiError.failedPrecondition("SYSTEM_TRIGGER_ONLY", name + ": only the system can trigger builds of this rule: "
                    + String.join("; ", reasons) + ". It builds when a matching ref is pushed");
        }
        Source source = rules.source(name.repositoryId())
                .orElseThrow(() -> ApiError.notFound(RepositoryEntity.NAME_PREFIX + name.repositoryId() + " does not exist"));
        String ref = (rule.getRefType() == BuildRule.RefType.BRANCH ? HEADS : TAGS) + rule.getRefPattern();
        String commit = sourceRefs.list(source.url(), source.credentials()).get(ref);
        if (commit == null) {
            throw ApiError.failedPrecondition("REF_NOT_FOUND", "rule.ref_pattern", "'" + ref + "' does not exist in " + source.url());
        }
        Instant now = clock.instant();
        List<String> tags = RuleTags.render(rule, Map.of(), now, commit);
        Trigger trigger = Trigger.newBuilder().setKind(Trigger.Kind.MANUAL).setRule(name.toString()).setRef(ref)
                .setEventTime(timestamp(now)).build();
        return submission.submit(requestId, spec(source, rule, commit, tags), trigger);
    }

    /** The build of one commit: every platform builds exactly it, so no ref goes in the spec. */
    static BuildSpec spec(Source source, BuildRule rule, String commit, List<String> tags) {
        BuildSpec.Builder spec = BuildSpec.newBuilder()
                .setSource(GitSource.newBuilder().setUrl(source.url()).setCommit(commit))
                .setDockerfileDirectory(rule.getDockerfileDirectory())
                .setDockerfileName(rule.getDockerfileName())
                .addAllPlatforms(rule.getPlatformsList())
                .setRepository(source.image())
                .addAllTags(tags)
                .setNoCache(rule.getNoCache());
        for (BuildParameter parameter : rule.getBuildParametersList()) {
            spec.putBuildArgs(parameter.getKey(), parameter.getValue());
        }
        return spec.build();
    }

    public static Optional<BuildRule.RefType> refType(String ref) {
        if (ref.startsWith(HEADS) && ref.length() > HEADS.length()) {
            return Optional.of(BuildRule.RefType.BRANCH);
        }
        if (ref.startsWith(TAGS) && ref.length() > TAGS.length()) {
            return Optional.of(BuildRule.RefType.TAG);
        }
        return Optional.empty();
    }

    /** "rule-" + SHA-256 of (rule uid, ref, commit): fits request_id's 128 characters and alphabet. */
    static String requestId(UUID ruleUid, String ref, String commit) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest((ruleUid + "\n" + ref + "\n" + commit).getBytes(StandardCharsets.UTF_8));
            return "rule-" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Outcome existing(MatchedRule matched, BuildEntity build) {
        return new Outcome(matched.name(), Outcome.Result.EXISTING, build.name(),
                BuildMapper.specFromJson(build.spec).getTagsList(), "");
    }

    private static Outcome refused(MatchedRule matched, Push push, String build, String reason) {
        LOG.warnf("rule %s refused to build %s at %s: %s", matched.name(), push.ref(), push.commit(), reason);
        return new Outcome(matched.name(), Outcome.Result.REFUSED, build, List.of(), reason);
    }

    private static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }
}
