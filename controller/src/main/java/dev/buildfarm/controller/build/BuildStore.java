package dev.buildfarm.controller.build;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.PlatformJob;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.Platform;
import dev.buildfarm.controller.dispatch.OutboxRecord;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** Creates and reads builds. A build, its platform builds and their jobs are written in one transaction. */
@ApplicationScoped
public class BuildStore {

    @Inject
    Clock clock;

    /** Stores a validated build and its dispatch records (the outbox), all or nothing. */
    @Transactional
    public BuildEntity create(String requestId, BuildSpec spec, String commit, Trigger trigger) {
        // Microseconds: what PostgreSQL keeps, so page tokens compare equal to stored times.
        Instant now = clock.instant().truncatedTo(ChronoUnit.MICROS);
        BuildEntity build = new BuildEntity();
        build.id = UUID.randomUUID();
        build.requestId = requestId.isEmpty() ? null : requestId;
        build.state = BuildState.QUEUED;
        build.spec = BuildMapper.specToJson(spec);
        build.repository = spec.getRepository();
        build.commit = commit;
        build.triggerKind = trigger.getKind() == Trigger.Kind.KIND_UNSPECIFIED ? Trigger.Kind.API : trigger.getKind();
        build.triggerRule = emptyToNull(trigger.getRule());
        build.triggerRef = emptyToNull(trigger.getRef());
        build.triggerEventId = emptyToNull(trigger.getEventId());
        build.triggerEventTime = trigger.hasEventTime()
                ? Instant.ofEpochSecond(trigger.getEventTime().getSeconds(), trigger.getEventTime().getNanos()) : null;
        build.createTime = now;
        build.updateTime = now;
        for (String value : spec.getPlatformsList()) {
            PlatformBuildEntity pb = new PlatformBuildEntity();
            pb.id = UUID.randomUUID();
            pb.build = build;
            pb.platform = value;
            pb.state = BuildState.QUEUED;
            pb.createTime = now;
            build.platformBuilds.add(pb);
        }
        build.persist();
        for (PlatformBuildEntity pb : build.platformBuilds) {
            PlatformJob job = PlatformJob.newBuilder()
                    .setJobId(pb.id.toString())
                    .setBuildName(build.name())
                    .setPlatform(pb.platform)
                    .setCommit(commit)
                    .setSpec(spec)
                    .build();
            OutboxRecord.of(JobTopics.forPlatform(Platform.parse(pb.platform)), build.name(), job.toByteArray(), now).persist();
        }
        return build;
    }

    @Transactional
    public Optional<BuildEntity> findByRequestId(String requestId) {
        return BuildEntity.findByRequestId(requestId).map(BuildStore::loaded);
    }

    @Transactional
    public Optional<BuildEntity> findByName(String name) {
        return parseName(name).flatMap(id -> BuildEntity.<BuildEntity>findByIdOptional(id)).map(BuildStore::loaded);
    }

    /** Newest first, after the given position (exclusive) when one is given. */
    @Transactional
    public List<BuildEntity> listNewestFirst(Optional<PageCursor> after, int limit) {
        List<BuildEntity> page = after
                .map(c -> BuildEntity.<BuildEntity>find(
                        "createTime < ?1 or (createTime = ?1 and id < ?2) order by createTime desc, id desc",
                        c.createTime(), c.id()))
                .orElseGet(() -> BuildEntity.find("order by createTime desc, id desc"))
                .page(0, limit).list();
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
