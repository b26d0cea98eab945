package dev.buildfarm.controller.api;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildSpecValidator;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.PageCursor;
import dev.buildfarm.controller.dispatch.OutboxRelay;
import dev.buildfarm.controller.source.GitRefResolver;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.exception.ConstraintViolationException;

/** The public build API. */
@GrpcService
@Blocking
public class BuildGrpcService extends BuildServiceGrpc.BuildServiceImplBase {

    private static final int DEFAULT_PAGE_SIZE = 20;
    private static final int MAX_PAGE_SIZE = 100;

    @Inject
    BuildStore store;

    @Inject
    GitRefResolver refs;

    @Inject
    OutboxRelay relay;

    @ConfigProperty(name = "buildfarm.sources.allow-file-urls")
    boolean allowFileUrls;

    @Override
    public void submitBuild(SubmitBuildRequest request, StreamObserver<Build> observer) {
        Rpc.unary(observer, () -> BuildMapper.toProto(submit(request)));
    }

    private BuildEntity submit(SubmitBuildRequest request) {
        BuildSpecValidator validator = new BuildSpecValidator(allowFileUrls);
        validator.validateRequestId(request.getRequestId());
        BuildSpec spec = validator.validate(request.getSpec());
        if (!request.getRequestId().isEmpty()) {
            Optional<BuildEntity> earlier = store.findByRequestId(request.getRequestId());
            if (earlier.isPresent()) {
                return sameRequest(earlier.get(), spec);
            }
        }
        String commit = spec.getSource().getCommit().isEmpty()
                ? refs.resolve(spec.getSource().getUrl(), spec.getSource().getRef())
                : spec.getSource().getCommit();
        BuildEntity build;
        try {
            build = store.create(request.getRequestId(), spec, commit);
        } catch (RuntimeException e) {
            if (isUniqueViolation(e) && !request.getRequestId().isEmpty()) {
                // The same request raced with itself: the other one won.
                return sameRequest(store.findByRequestId(request.getRequestId()).orElseThrow(() -> e), spec);
            }
            throw e;
        }
        relay.poke();
        return build;
    }

    private static BuildEntity sameRequest(BuildEntity earlier, BuildSpec spec) {
        if (!BuildMapper.specFromJson(earlier.spec).equals(spec)) {
            throw ApiError.invalid("request_id", "'" + earlier.requestId + "' was already used for "
                    + earlier.name() + " with a different spec; use a new request_id");
        }
        return earlier;
    }

    private static boolean isUniqueViolation(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConstraintViolationException) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void getBuild(GetBuildRequest request, StreamObserver<Build> observer) {
        Rpc.unary(observer, () -> {
            if (BuildStore.parseName(request.getName()).isEmpty()) {
                throw ApiError.invalid("name", "'" + request.getName() + "' is not a build name like builds/{id}");
            }
            return store.findByName(request.getName())
                    .map(BuildMapper::toProto)
                    .orElseThrow(() -> ApiError.notFound(request.getName() + " does not exist"));
        });
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
            List<BuildEntity> rows = store.listNewestFirst(after, size + 1);
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
