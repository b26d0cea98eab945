package dev.buildfarm.controller.api;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.GetBuildRequest;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import dev.buildfarm.api.v1.SubmitBuildRequest;
import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.BuildSubmission;
import dev.buildfarm.controller.build.PageCursor;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.List;
import java.util.Optional;

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

    @Override
    public void submitBuild(SubmitBuildRequest request, StreamObserver<Build> observer) {
        Rpc.unary(observer, () -> BuildMapper.toProto(submission.submit(request.getRequestId(), request.getSpec(),
                Trigger.newBuilder().setKind(Trigger.Kind.API).build())));
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
