package dev.buildfarm.controller.rules;

import com.google.protobuf.FieldMask;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceCredentials;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.BuildSubmission;
import dev.buildfarm.controller.rules.RuleNames.RuleName;
import dev.buildfarm.controller.tenancy.Caller;
import io.quarkus.hibernate.orm.panache.Panache;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Repositories, their rules and the poller's memory of refs. Every change is one transaction that
 * validates before it writes, so a refused request leaves nothing behind.
 */
@ApplicationScoped
public class RuleStore {

    static final Set<String> UPDATABLE_REPOSITORY_FIELDS = Set.of(
            "image", "auto_build", "source", "source.url", "source.webhook_secret", "source.credentials");
    static final Set<String> UPDATABLE_RULE_FIELDS = Set.of(
            "ref_type", "ref_pattern", "dockerfile_directory", "dockerfile_name", "tags", "platforms",
            "build_parameters", "no_cache", "time_zone");
    private static final int PATTERN_CACHE_LIMIT = 50_000;

    /** What a push needs of a repository, secrets opened. */
    public record Source(String id, String name, String image, String url, boolean autoBuild,
            Optional<String> webhookSecret, Optional<SourceCredentials> credentials, Instant lastPollTime,
            RuleIndex.Version rulesVersion) {
    }

    /** A rule whose pattern matched a ref, with the named groups' values. */
    public record MatchedRule(String name, UUID uid, BuildRule rule, Map<String, String> groups) {
    }

    @Inject
    Clock clock;

    @Inject
    SecretBox secrets;

    @Inject
    BuildSubmission submission;

    /** Each repository's rules compiled for matching, by repository id; see RuleIndex. */
    private final Map<String, RuleIndex> indexes = new ConcurrentHashMap<>();
    /** Compiled patterns, so rebuilding an index after one rule changed compiles one pattern. */
    private final Map<String, RefPattern> patterns = new ConcurrentHashMap<>();

    // ---- repositories

    @Transactional
    public Repository createRepository(String id, Repository request) {
        repositoryValidator().validate(request, "repository", true);
        if (RepositoryEntity.findByIdOptional(id).isPresent()) {
            throw RuleErrors.alreadyExists(RepositoryEntity.NAME_PREFIX + id + " already exists");
        }
        Instant now = now();
        RepositoryEntity entity = new RepositoryEntity();
        entity.id = id;
        entity.createTime = now;
        apply(entity, request, List.of(UpdateMasks.ALL));
        entity.updateTime = now;
        entity.persist();
        return RuleMapper.toProto(entity);
    }

    @Transactional
    public Repository getRepository(String id) {
        return RuleMapper.toProto(repository(id));
    }

    @Transactional
    public List<Repository> listRepositories(String afterId, int limit, Optional<String> namespace) {
        var query = namespace.isPresent()
                ? RepositoryEntity.<RepositoryEntity>find("namespace = ?1 and id > ?2 order by id", namespace.get(), afterId)
                : RepositoryEntity.<RepositoryEntity>find("id > ?1 order by id", afterId);
        return query.page(0, limit).list().stream().map(RuleMapper::toProto).toList();
    }

    /** The namespace owning a stored repository (empty when there is none of that id). */
    @Transactional
    public Optional<String> namespaceOf(String repositoryId) {
        return RepositoryEntity.<RepositoryEntity>findByIdOptional(repositoryId).map(r -> r.namespace);
    }

    @Transactional
    public Repository updateRepository(String id, Repository request, FieldMask mask) {
        RepositoryEntity entity = repository(id);
        List<String> paths = UpdateMasks.paths(mask, request, UPDATABLE_REPOSITORY_FIELDS);
        Repository.Builder merged = RuleMapper.toProto(entity).toBuilder();
        merged.getSourceBuilder().clearWebhookSecretSet().clearCredentialsSet();
        UpdateMasks.apply(paths, request, merged);
        repositoryValidator().validate(merged.build(), "repository", true);
        // Moving the repository to another namespace needs the caller to administer that one too.
        Caller.current().require(BuildStore.namespaceOf(merged.getImage()), Token.Role.ADMIN);
        if (!merged.getSource().getUrl().equals(entity.sourceUrl)) {
            // Another source: the poller's memory is of the old one, so its next look starts afresh.
            forgetRefs(id);
            entity.lastPollTime = null;
        }
        apply(entity, merged.build(), paths);
        entity.updateTime = now();
        return RuleMapper.toProto(entity);
    }

    @Transactional
    public void deleteRepository(String id, boolean force) {
        RepositoryEntity entity = repository(id);
        long rules = BuildRuleEntity.count("repositoryId", id);
        if (rules > 0 && !force) {
            throw ApiError.failedPrecondition("REPOSITORY_HAS_RULES", entity.name() + " still has " + rules
                    + " build rule(s); delete them first or set force");
        }
        // Rules and remembered refs go with it (on delete cascade); builds keep their trigger.
        BuildRuleEntity.delete("repositoryId", id);
        entity.delete();
        indexes.remove(id);
    }

    // ---- rules

    @Transactional
    public BuildRule createRule(RuleName name, BuildRule request) {
        repository(name.repositoryId());
        BuildRule rule = ruleValidator().validate(request, "rule");
        if (findRule(name).isPresent()) {
            throw RuleErrors.alreadyExists(name + " already exists");
        }
        Instant now = now();
        BuildRuleEntity entity = new BuildRuleEntity();
        entity.uid = UUID.randomUUID();
        entity.repositoryId = name.repositoryId();
        entity.ruleId = name.ruleId();
        entity.createTime = now;
        store(entity, rule, now);
        entity.persist();
        rulesChanged(name.repositoryId());
        return RuleMapper.toProto(entity);
    }

    @Transactional
    public BuildRule getRule(RuleName name) {
        return RuleMapper.toProto(rule(name));
    }

    @Transactional
    public List<BuildRule> listRules(String repositoryId, String afterId, int limit) {
        repository(repositoryId);
        return BuildRuleEntity.<BuildRuleEntity>find("repositoryId = ?1 and ruleId > ?2 order by ruleId", repositoryId, afterId)
                .page(0, limit).list().stream().map(RuleMapper::toProto).toList();
    }

    @Transactional
    public BuildRule updateRule(RuleName name, BuildRule request, FieldMask mask) {
        BuildRuleEntity entity = rule(name);
        List<String> paths = UpdateMasks.paths(mask, request, UPDATABLE_RULE_FIELDS);
        BuildRule.Builder merged = RuleMapper.ruleFromJson(entity.spec).toBuilder();
        UpdateMasks.apply(paths, request, merged);
        store(entity, ruleValidator().validate(merged.build(), "rule"), now());
        rulesChanged(name.repositoryId());
        return RuleMapper.toProto(entity);
    }

    @Transactional
    public void deleteRule(RuleName name) {
        rule(name).delete();
        rulesChanged(name.repositoryId());
    }

    // ---- what pushes and the poller need

    @Transactional
    public Optional<Source> source(String repositoryId) {
        return RepositoryEntity.<RepositoryEntity>findByIdOptional(repositoryId).map(r -> new Source(r.id, r.name(), r.image,
                r.sourceUrl, r.autoBuild, Optional.ofNullable(r.webhookSecret).map(secrets::open),
                Optional.ofNullable(r.credentials).map(this::openCredentials), r.lastPollTime,
                new RuleIndex.Version(r.createTime, r.rulesVersion)));
    }

    /** Rules of the repository whose type and pattern match a branch or tag name, loaded whole. */
    @Transactional
    public List<MatchedRule> matching(Source source, BuildRule.RefType type, String refName) {
        RuleIndex index = indexes.get(source.id());
        if (index == null || !index.version.equals(source.rulesVersion())) {
            // Read after the version, so the index holds at least that version's rules.
            List<Object[]> rows = Panache.getEntityManager().createQuery(
                    "select r.uid, r.refType, r.refPattern from BuildRuleEntity r where r.repositoryId = ?1", Object[].class)
                    .setParameter(1, source.id()).getResultList();
            index = RuleIndex.of(source.rulesVersion(), rows, this::compiled);
            indexes.put(source.id(), index);
        }
        Map<UUID, Map<String, String>> groups = index.match(type, refName);
        if (groups.isEmpty()) {
            return List.of();
        }
        // Matched again as loaded: a rule changed or deleted since the index was built is seen as it is now.
        List<MatchedRule> matched = new ArrayList<>();
        for (BuildRuleEntity entity : BuildRuleEntity.<BuildRuleEntity>list("uid in ?1 order by ruleId", groups.keySet())) {
            BuildRule rule = RuleMapper.ruleFromJson(entity.spec);
            if (rule.getRefType() == type) {
                compiled(rule.getRefPattern()).match(refName)
                        .ifPresent(values -> matched.add(new MatchedRule(entity.name(), entity.uid, rule, values)));
            }
        }
        return matched;
    }

    /**
     * The source credentials for the agent that fetches a build's source: those of the repository whose
     * rule fired the build, while that repository still points at the build's source URL. None for
     * builds submitted directly, so nobody can borrow a repository's credentials by naming its URL.
     */
    @Transactional
    public Optional<SourceCredentials> credentialsForBuild(String triggerRule, String sourceUrl) {
        if (triggerRule == null) {
            return Optional.empty();
        }
        String repositoryId = RuleNames.ruleName(triggerRule, "trigger.rule").repositoryId();
        return RepositoryEntity.<RepositoryEntity>findByIdOptional(repositoryId)
                .filter(r -> r.credentials != null && r.sourceUrl.equals(sourceUrl))
                .map(r -> openCredentials(r.credentials));
    }

    @Transactional
    public List<String> autoBuildRepositoryIds() {
        return Panache.getEntityManager()
                .createQuery("select r.id from RepositoryEntity r where r.autoBuild = true order by r.id", String.class)
                .getResultList();
    }

    /** The poller's memory: full ref name → commit. */
    @Transactional
    public Map<String, String> seenRefs(String repositoryId) {
        Map<String, String> seen = new HashMap<>();
        List<?> rows = Panache.getEntityManager()
                .createNativeQuery("select ref, commit_sha from source_ref where repository_id = ?1")
                .setParameter(1, repositoryId).getResultList();
        for (Object row : rows) {
            Object[] columns = (Object[]) row;
            seen.put((String) columns[0], (String) columns[1]);
        }
        return seen;
    }

    /** Replaces the poller's memory of a repository with what it saw now. */
    @Transactional
    public void rememberRefs(String repositoryId, Map<String, String> refs) {
        Instant now = now();
        var em = Panache.getEntityManager();
        forgetRefs(repositoryId);
        for (Map.Entry<String, String> ref : refs.entrySet()) {
            em.createNativeQuery("insert into source_ref (repository_id, ref, commit_sha, update_time) values (?1, ?2, ?3, ?4)")
                    .setParameter(1, repositoryId).setParameter(2, ref.getKey()).setParameter(3, ref.getValue())
                    .setParameter(4, now).executeUpdate();
        }
        RepositoryEntity.<RepositoryEntity>findByIdOptional(repositoryId).ifPresent(r -> r.lastPollTime = now);
    }

    // ---- helpers

    /** In the rule change's transaction; the row lock orders concurrent changes, so no bump is lost. */
    private static void rulesChanged(String repositoryId) {
        Panache.getEntityManager().createNativeQuery("update source_repository set rules_version = rules_version + 1 where id = ?1")
                .setParameter(1, repositoryId).executeUpdate();
    }

    private static void forgetRefs(String repositoryId) {
        Panache.getEntityManager().createNativeQuery("delete from source_ref where repository_id = ?1")
                .setParameter(1, repositoryId).executeUpdate();
    }

    private RefPattern compiled(String pattern) {
        if (patterns.size() > PATTERN_CACHE_LIMIT) {
            patterns.clear();
        }
        return patterns.computeIfAbsent(pattern, RefPattern::compile);
    }

    private void apply(RepositoryEntity entity, Repository merged, List<String> paths) {
        entity.image = merged.getImage();
        entity.namespace = BuildStore.namespaceOf(merged.getImage());
        entity.sourceUrl = merged.getSource().getUrl();
        entity.autoBuild = !merged.hasAutoBuild() || merged.getAutoBuild();
        if (UpdateMasks.touches(paths, "source.webhook_secret")) {
            String secret = merged.getSource().getWebhookSecret();
            entity.webhookSecret = secret.isEmpty() ? null : secrets.seal(secret);
        }
        if (UpdateMasks.touches(paths, "source.credentials")) {
            SourceCredentials credentials = merged.getSource().getCredentials();
            entity.credentials = credentials.getPassword().isEmpty() ? null
                    : secrets.seal(credentials.getUsername() + "\n" + credentials.getPassword());
        }
    }

    private SourceCredentials openCredentials(String sealed) {
        String[] parts = secrets.open(sealed).split("\n", 2);
        return SourceCredentials.newBuilder().setUsername(parts[0]).setPassword(parts[1]).build();
    }

    private void store(BuildRuleEntity entity, BuildRule rule, Instant now) {
        entity.refType = rule.getRefType().name();
        entity.refPattern = rule.getRefPattern();
        entity.spec = RuleMapper.ruleToJson(rule);
        entity.updateTime = now;
    }

    private RepositoryEntity repository(String id) {
        return RepositoryEntity.<RepositoryEntity>findByIdOptional(id)
                .orElseThrow(() -> ApiError.notFound(RepositoryEntity.NAME_PREFIX + id + " does not exist"));
    }

    private Optional<BuildRuleEntity> findRule(RuleName name) {
        return BuildRuleEntity.find("repositoryId = ?1 and ruleId = ?2", name.repositoryId(), name.ruleId()).firstResultOptional();
    }

    private BuildRuleEntity rule(RuleName name) {
        return findRule(name).orElseThrow(() -> ApiError.notFound(name + " does not exist"));
    }

    private RepositoryValidator repositoryValidator() {
        return new RepositoryValidator(submission.validator());
    }

    private RuleValidator ruleValidator() {
        return new RuleValidator(submission.validator());
    }

    private Instant now() {
        // Microseconds: what PostgreSQL keeps, so answers equal what a later read returns.
        return clock.instant().truncatedTo(ChronoUnit.MICROS);
    }
}
