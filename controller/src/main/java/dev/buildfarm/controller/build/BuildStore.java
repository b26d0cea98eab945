package dev.buildfarm.controller.build;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.Namespaces;
import dev.buildfarm.common.Platform;
import dev.buildfarm.controller.admission.Admission;
import dev.buildfarm.controller.dispatch.Outbox;
import dev.buildfarm.controller.events.BuildEvents;
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
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Creates and reads builds. A build, its platform builds and their jobs are written in one transaction. */
@ApplicationScoped
public class BuildStore {

    @Inject
    Clock clock;

    @Inject
    Outbox outbox;

    @Inject
    BuildEvents events;

    @Inject
    Admission admission;

    @ConfigProperty(name = "buildfarm.kafka.topic-prefix")
    String topicPrefix;

    /**
     * Stores a validated build, all or nothing. Its platform jobs wait for admission, which writes
     * each one's dispatch record (the outbox) when its platform and namespace have a free slot.
     */
    @Transactional
    public BuildEntity create(String requestId, BuildSpec spec, String commit, Trigger trigger) {
        return create(requestId, spec, commit, trigger, null);
    }

    /** As above, with the sealed values of the secret build arguments that {@code spec} masks. */
    @Transactional
    public BuildEntity create(String requestId, BuildSpec spec, String commit, Trigger trigger, byte[] sealedSecrets) {
        BuildEntity build = newBuild(requestId, spec, commit, trigger, BuildState.QUEUED, null);
        build.sealedSecrets = sealedSecrets;
        build.persist();
        admission.passAfterCommit();
        events.buildChanged(build);
        return build;
    }

    /**
     * Records a build that was refused when it fired (a rule whose rendered tag is invalid for the
     * pushed ref): FAILED at once with the reason, nothing queued, and a build.failed event.
     */
    @Transactional
    public BuildEntity createFailed(String requestId, BuildSpec spec, String commit, Trigger trigger, String reason) {
        BuildEntity build = newBuild(requestId, spec, commit, trigger, BuildState.FAILED, reason);
        build.persist();
        events.buildChanged(build);
        return build;
    }

    private BuildEntity newBuild(String requestId, BuildSpec spec, String commit, Trigger trigger, BuildState state, String failure) {
        // Microseconds: what PostgreSQL keeps, so page tokens compare equal to stored times.
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        BuildEntity build = new BuildEntity();
        build.id = UUID.randomUUID();
        build.requestId = requestId.isEmpty() ? null : requestId;
        build.state = state;
        build.failureReason = failure;
        build.spec = BuildMapper.specToJson(spec);
        build.repository = spec.getRepository();
        build.namespace = namespaceOf(spec.getRepository());
        build.commit = commit;
        build.triggerKind = trigger.getKind() == Trigger.Kind.KIND_UNSPECIFIED ? Trigger.Kind.API : trigger.getKind();
        build.triggerRule = emptyToNull(trigger.getRule());
        build.triggerRef = emptyToNull(trigger.getRef());
        build.triggerEventId = emptyToNull(trigger.getEventId());
        build.triggerEventTime = trigger.hasEventTime()
                ? Instant.ofEpochSecond(trigger.getEventTime().getSeconds(), trigger.getEventTime().getNanos()) : null;
        build.createTime = now;
        build.updateTime = now;
        build.endTime = state.isFinal() ? now : null;
        for (String value : spec.getPlatformsList()) {
            PlatformBuildEntity pb = new PlatformBuildEntity();
            pb.id = UUID.randomUUID();
            pb.build = build;
            pb.platform = value;
            pb.state = state;
            pb.failureReason = failure;
            pb.createTime = now;
            pb.endTime = build.endTime;
            build.platformBuilds.add(pb);
        }
        return build;
    }

    /** Queues a platform job on its platform's topic, in the caller's transaction (outbox). */
    public void dispatch(PlatformBuildEntity pb, BuildSpec spec) {
        outbox.add(JobTopics.forPlatform(topicPrefix, Platform.parse(pb.platform)), pb.build.name(), jobOf(pb, spec).toByteArray(), null);
    }

    /** The job as agents read it from the topic. */
    public static PlatformJob jobOf(PlatformBuildEntity pb, BuildSpec spec) {
        BuildEntity build = pb.build;
        return PlatformJob.newBuilder()
                .setJobId(pb.id.toString())
                .setBuildName(build.name())
                .setPlatform(pb.platform)
                .setCommit(build.commit)
                .setSpec(spec)
                .build();
    }

    @Transactional
    public Optional<BuildEntity> findByRequestId(String namespace, String requestId) {
        return BuildEntity.findByRequestId(namespace, requestId).map(BuildStore::loaded);
    }

    /**
     * The namespace owning a repository. Validated specs always name one; a repository stored before
     * namespaces existed (host/name) belongs to "default", as the migration put it.
     */
    public static String namespaceOf(String repository) {
        return Namespaces.ofRepository(repository).orElse(DEFAULT_NAMESPACE);
    }

    public static final String DEFAULT_NAMESPACE = "default";

    @Transactional
    public Optional<BuildEntity> findByName(String name) {
        return parseName(name).flatMap(id -> BuildEntity.<BuildEntity>findByIdOptional(id)).map(BuildStore::loaded);
    }

    /** What ListBuilds may filter on; null fields do not filter. */
    public record Filter(String repository, BuildState state, String rule, Instant createdAfter, Instant createdBefore,
            String namespace) {
    }

    /** The namespace of a stored build, without loading it. */
    @Transactional
    public Optional<String> namespaceOf(UUID id) {
        return BuildEntity.getEntityManager()
                .createQuery("select b.namespace from BuildEntity b where b.id = :id", String.class)
                .setParameter("id", id).getResultStream().findFirst();
    }

    /** Newest first, after the given position (exclusive) when one is given. */
    @Transactional
    public List<BuildEntity> listNewestFirst(Filter filter, Optional<PageCursor> after, int limit) {
        List<String> where = new ArrayList<>();
        Map<String, Object> params = new HashMap<>();
        after.ifPresent(c -> {
            where.add("(createTime < :cursorTime or (createTime = :cursorTime and id < :cursorId))");
            params.put("cursorTime", c.createTime());
            params.put("cursorId", c.id());
        });
        if (filter.repository() != null) {
            where.add("repository = :repository");
            params.put("repository", filter.repository());
        }
        if (filter.namespace() != null) {
            where.add("namespace = :namespace");
            params.put("namespace", filter.namespace());
        }
        if (filter.state() != null) {
            where.add("state = :state");
            params.put("state", filter.state());
        }
        if (filter.rule() != null) {
            where.add("triggerRule = :rule");
            params.put("rule", filter.rule());
        }
        if (filter.createdAfter() != null) {
            where.add("createTime >= :createdAfter");
            params.put("createdAfter", filter.createdAfter());
        }
        if (filter.createdBefore() != null) {
            where.add("createTime < :createdBefore");
            params.put("createdBefore", filter.createdBefore());
        }
        String query = (where.isEmpty() ? "" : String.join(" and ", where) + " ") + "order by createTime desc, id desc";
        List<BuildEntity> page = BuildEntity.<BuildEntity>find(query, params).page(0, limit).list();
        page.forEach(BuildStore::loaded);
        return page;
    }

    public static Optional<UUID> parseName(String name) {
        if (name == null || !name.startsWith(BuildEntity.NAME_PREFIX)) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(name.substring(BuildEntity.NAME_PREFIX.length())));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static String emptyToNull(String value) {
        return value.isEmpty() ? null : value;
    }

    private static BuildEntity loaded(BuildEntity build) {
        build.platformBuilds.size();
        return build;
    }
}
