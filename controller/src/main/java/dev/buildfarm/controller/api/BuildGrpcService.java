package dev.buildfarm.controller.api;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildEvent;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.CancelBuildRequest;
import dev.buildfarm.api.v1.Context;
import dev.buildfarm.api.v1.ContextChunk;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.ListAgentsRequest;
import dev.buildfarm.api.v1.ListAgentsResponse;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.RetryBuildRequest;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.api.v1.WatchBuildsRequest;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.common.Namespaces;
import dev.buildfarm.common.Platform;
import dev.buildfarm.controller.agent.AgentJobs;
import dev.buildfarm.controller.agent.AgentRegistry;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.BuildSubmission;
import dev.buildfarm.controller.build.PageCursor;
import dev.buildfarm.controller.context.ContextStore;
import dev.buildfarm.controller.context.ContextUpload;
import dev.buildfarm.controller.events.EventHub;
import dev.buildfarm.controller.logs.BuildSignals;
import dev.buildfarm.controller.logs.LogFollower;
import dev.buildfarm.controller.tenancy.Caller;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/** The public build API. */
@GrpcService
@Blocking
public class BuildGrpcService extends BuildServiceGrpc.BuildServiceImplBase {

    private static final int DEFAULT_PAGE_SIZE = 20;
    private static final int MAX_PAGE_SIZE = 100;

    @Inject
    BuildStore store;

    @Inject
    BuildSubmission submission;

    @Inject
    AgentJobs jobs;

    @Inject
    BuildSignals signals;

    @Inject
    LogFollower logs;

    @Inject
    EventHub events;

    @Inject
    AgentRegistry agents;

    @Inject
    ContextStore contexts;

    @Override
    public StreamObserver<ContextChunk> uploadContext(StreamObserver<Context> observer) {
        return new ContextUpload(contexts, observer);
    }

    @Override
    public void submitBuild(SubmitBuildRequest request, StreamObserver<Build> observer) {
        Rpc.unary(observer, () -> {
            // A spec without a namespace is refused by the validator, naming the rule.
            Namespaces.ofRepository(request.getSpec().getRepository())
                    .ifPresent(ns -> Caller.current().require(ns, Token.Role.SUBMITTER));
            return BuildMapper.toProto(submission.submit(request.getRequestId(), request.getSpec(),
                    Trigger.newBuilder().setKind(Trigger.Kind.API).build()));
        });
    }

    @Override
    public void cancelBuild(CancelBuildRequest request, StreamObserver<Build> observer) {
        Rpc.unary(observer, () -> {
            UUID id = owned(request.getName(), Token.Role.SUBMITTER);
            jobs.cancel(id);
            signals.signal(id);
            return store.findByName(request.getName()).map(BuildMapper::toProto).orElseThrow();
        });
    }

    @Override
    public void retryBuild(RetryBuildRequest request, StreamObserver<Build> observer) {
        Rpc.unary(observer, () -> {
            UUID id = owned(request.getName(), Token.Role.SUBMITTER);
            List<String> platforms = new ArrayList<>();
            for (String platform : request.getPlatformsList()) {
                try {
                    String normalised = Platform.parse(platform).toString();
                    if (platforms.contains(normalised)) {
                        throw ApiError.invalid("platforms", "'" + platform + "' is named twice");
                    }
                    platforms.add(normalised);
                } catch (IllegalArgumentException e) {
                    throw ApiError.invalid("platforms", e.getMessage());
                }
            }
            jobs.retry(id, platforms);
            signals.signal(id);
            return store.findByName(request.getName()).map(BuildMapper::toProto).orElseThrow();
        });
    }

    @Override
    public void streamBuildLogs(StreamBuildLogsRequest request, StreamObserver<LogChunk> observer) {
        try {
            owned(request.getName(), Token.Role.VIEWER);
            logs.start(request, (ServerCallStreamObserver<LogChunk>) observer);
        } catch (ApiError e) {
            observer.onError(e.toStatusRuntimeException());
        }
    }

    @Override
    public void watchBuilds(WatchBuildsRequest request, StreamObserver<BuildEvent> observer) {
        if (!request.getName().isEmpty() && BuildStore.parseName(request.getName()).isEmpty()) {
            observer.onError(ApiError.invalid("name", "'" + request.getName() + "' is not a build name like builds/{id}")
                    .toStatusRuntimeException());
            return;
        }
        Caller caller = Caller.current();
        if (!request.getName().isEmpty()) {
            try {
                owned(request.getName(), Token.Role.VIEWER);
            } catch (ApiError e) {
                observer.onError(e.toStatusRuntimeException());
                return;
            } catch (RuntimeException e) {
                Rpc.unary(observer, () -> {
                    throw e;
                });
                return;
            }
        }
        // A build's events go to watchers who may read its namespace; agent events (no build) to all.
        events.watch(request.getName(), e -> !e.hasBuild() || caller.canRead(e.getBuild().getNamespace()),
                (ServerCallStreamObserver<BuildEvent>) observer);
    }

    @Override
    public void listAgents(ListAgentsRequest request, StreamObserver<ListAgentsResponse> observer) {
        Rpc.unary(observer, () -> agents.list());
    }

    @Override
    public void getBuild(GetBuildRequest request, StreamObserver<Build> observer) {
        Rpc.unary(observer, () -> {
            owned(request.getName(), Token.Role.VIEWER);
            return store.findByName(request.getName())
                    .map(BuildMapper::toProto)
                    .orElseThrow(() -> ApiError.notFound(request.getName() + " does not exist"));
        });
    }

    /**
     * The id of the named build, once the caller is known to act in the build's stored namespace
     * with at least {@code least}: INVALID_ARGUMENT for a malformed name, NOT_FOUND for none,
     * PERMISSION_DENIED for another namespace.
     */
    private UUID owned(String name, Token.Role least) {
        UUID id = BuildStore.parseName(name)
                .orElseThrow(() -> ApiError.invalid("name", "'" + name + "' is not a build name like builds/{id}"));
        String namespace = store.namespaceOf(id).orElseThrow(() -> ApiError.notFound(name + " does not exist"));
        Caller.current().require(namespace, least);
        return id;
    }

    private static BuildStore.Filter filter(ListBuildsRequest request) {
        BuildState state = switch (request.getState()) {
            case STATE_UNSPECIFIED -> null;
            case UNRECOGNIZED -> throw ApiError.invalid("state", "unknown state value " + request.getStateValue());
            default -> BuildState.valueOf(request.getState().name());
        };
        Instant after = request.hasCreateTimeAfter() ? instant(request.getCreateTimeAfter()) : null;
        Instant before = request.hasCreateTimeBefore() ? instant(request.getCreateTimeBefore()) : null;
        if (after != null && before != null && !after.isBefore(before)) {
            throw ApiError.invalid("create_time_after", "must be before create_time_before");
        }
        return new BuildStore.Filter(emptyToNull(request.getRepository()), state, emptyToNull(request.getRule()), after, before,
                Caller.current().onlyNamespace().orElse(null));
    }

    private static Instant instant(com.google.protobuf.Timestamp t) {
        return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
    }

    private static String emptyToNull(String value) {
        return value.isEmpty() ? null : value;
    }

    @Override
    public void listBuilds(ListBuildsRequest request, StreamObserver<ListBuildsResponse> observer) {
        Rpc.unary(observer, () -> {
            if (request.getPageSize() < 0) {
                throw ApiError.invalid("page_size", "must not be negative");
            }
            int size = request.getPageSize() == 0 ? DEFAULT_PAGE_SIZE : Math.min(request.getPageSize(), MAX_PAGE_SIZE);
            Optional<PageCursor> after = Optional.empty();
            if (!request.getPageToken().isEmpty()) {
                after = Optional.of(PageCursor.decode(request.getPageToken())
                        .orElseThrow(() -> ApiError.invalid("page_token", "is not a token returned by ListBuilds")));
            }
            // One extra row tells whether another page exists.
            List<BuildEntity> rows = store.listNewestFirst(filter(request), after, size + 1);
            ListBuildsResponse.Builder response = ListBuildsResponse.newBuilder();
            rows.stream().limit(size).forEach(b -> response.addBuilds(BuildMapper.toProto(b)));
            if (rows.size() > size) {
                BuildEntity last = rows.get(size - 1);
                response.setNextPageToken(new PageCursor(last.createTime, last.id).encode());
            }
            return response.build();
        });
    }
}
