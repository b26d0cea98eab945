package dev.buildfarm.controller.publish;

import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.IndexChild;
import dev.buildfarm.api.v1.ManifestAssemblerServiceGrpc.ManifestAssemblerServiceBlockingStub;
import dev.buildfarm.api.v1.PublishIndexRequest;
import dev.buildfarm.api.v1.PublishIndexResponse;
import dev.buildfarm.common.LogContext;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.events.BuildEvents;
import dev.buildfarm.controller.tenancy.RegistryCredentials;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.grpc.GrpcClient;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Publishes the index of a build whose platforms all succeeded (or, under publish_partial, of those
 * that did), through the manifest assembler.
 * Runs right after the last platform finishes, and from a sweep that picks up builds left in
 * PUBLISHING (a restart, an unreachable assembler). Publication is idempotent.
 */
@ApplicationScoped
public class IndexPublication {

    private static final Logger LOG = Logger.getLogger(IndexPublication.class);
    /** Index annotation naming, comma-separated, the platforms a partial publication left out. */
    public static final String MISSING_PLATFORMS = "dev.buildfarm.missing-platforms";

    @GrpcClient("assembler")
    ManifestAssemblerServiceBlockingStub assembler;

    @Inject
    Clock clock;

    @Inject
    BuildEvents events;

    @Inject
    RegistryCredentials registryCredentials;

    private final Set<UUID> inFlight = ConcurrentHashMap.newKeySet();
    private final ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "index-publication");
        t.setDaemon(true);
        return t;
    });

    public void publishSoon(UUID buildId) {
        if (inFlight.add(buildId)) {
            executor.execute(() -> {
                try {
                    publish(buildId);
                } finally {
                    inFlight.remove(buildId);
                }
            });
        }
    }

    @Scheduled(every = "5s", delayed = "5s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        List<UUID> waiting = QuarkusTransaction.requiringNew().call(() ->
                BuildEntity.<BuildEntity>list("state", BuildState.PUBLISHING).stream().map(b -> b.id).toList());
        waiting.forEach(this::publishSoon);
    }

    void publish(UUID buildId) {
        try (LogContext context = LogContext.open().build(BuildEntity.NAME_PREFIX + buildId)) {
            publishIndex(buildId);
        }
    }

    private void publishIndex(UUID buildId) {
        PublishIndexRequest request = QuarkusTransaction.requiringNew().call(() -> {
            BuildEntity build = BuildEntity.findById(buildId);
            if (build == null || build.state != BuildState.PUBLISHING) {
                return null;
            }
            BuildSpec spec = BuildMapper.specFromJson(build.spec);
            PublishIndexRequest.Builder out = PublishIndexRequest.newBuilder()
                    .setRepository(spec.getRepository())
                    .addAllTags(spec.getTagsList())
                    .putAnnotations("org.opencontainers.image.revision", build.commit)
                    .putAnnotations("org.opencontainers.image.source", spec.getSource().getUrl())
                    .putAnnotations("dev.buildfarm.build", build.name());
            if (build.missingPlatforms != null && !build.missingPlatforms.isEmpty()) {
                // publish_partial: the index says which platforms it lacks.
                out.putAnnotations(MISSING_PLATFORMS, build.missingPlatforms);
            }
            // Only in this request, to the assembler; never logged.
            registryCredentials.forRepository(build.namespace, spec.getRepository()).ifPresent(out::setRegistryAuth);
            build.platformBuilds.stream().filter(pb -> pb.state == BuildState.SUCCEEDED).forEach(pb -> out.addChildren(
                    IndexChild.newBuilder()
                            .setPlatform(pb.platform)
                            .setDigest(pb.digest)
                            .setSourceRepository(pb.pushedRepository == null ? "" : pb.pushedRepository)));
            return out.build();
        });
        if (request == null) {
            return;
        }
        try {
            PublishIndexResponse response = assembler.withDeadlineAfter(120, TimeUnit.SECONDS).publishIndex(request);
            finish(buildId, BuildState.SUCCEEDED, response.getIndexDigest(), null);
            LOG.infof("build %s published %s@%s", buildId, request.getRepository(), response.getIndexDigest());
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED || code == Status.Code.INTERNAL) {
                // Transient: the sweep tries again.
                LOG.warnf("build %s: publication will be retried: %s", buildId, e.getStatus());
            } else {
                finish(buildId, BuildState.FAILED, null, "publication refused: " + e.getStatus().getDescription());
            }
        }
    }

    private void finish(UUID buildId, BuildState state, String indexDigest, String failure) {
        QuarkusTransaction.requiringNew().run(() -> {
            BuildEntity build = BuildEntity.findById(buildId);
            if (build.state != BuildState.PUBLISHING) {
                return;
            }
            build.indexDigest = indexDigest;
            build.failureReason = failure;
            build.moveTo(state, clock.instant());
            events.buildChanged(build);
        });
    }
}
