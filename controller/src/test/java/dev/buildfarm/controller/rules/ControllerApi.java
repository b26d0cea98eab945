package dev.buildfarm.controller.rules;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildRuleServiceGrpc;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceBinding;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;

/** gRPC clients of the controller under test, on its random test port. */
public final class ControllerApi implements AutoCloseable {

    public static final String IMAGE = "127.0.0.1:5000/rules-test/app";
    public static final String SECRET = "s3cret-for-webhooks";

    public final int port = ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
    private final ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    public final BuildRuleServiceGrpc.BuildRuleServiceBlockingStub rules = BuildRuleServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(60, TimeUnit.SECONDS);
    public final BuildServiceGrpc.BuildServiceBlockingStub builds = BuildServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(60, TimeUnit.SECONDS);

    public static String uniqueId(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    public Repository createRepository(String id, String url) {
        return rules.createRepository(CreateRepositoryRequest.newBuilder().setRepositoryId(id)
                .setRepository(Repository.newBuilder().setImage(IMAGE)
                        .setSource(SourceBinding.newBuilder().setUrl(url).setWebhookSecret(SECRET)))
                .build());
    }

    public BuildRule createRule(String repositoryId, String ruleId, BuildRule rule) {
        return rules.createBuildRule(CreateBuildRuleRequest.newBuilder().setParent("repositories/" + repositoryId)
                .setRuleId(ruleId).setRule(rule).build());
    }

    /** Builds that remember this rule fired them. */
    public List<Build> buildsOf(String rule) {
        return builds.listBuilds(ListBuildsRequest.newBuilder().setRule(rule).setPageSize(100).build()).getBuildsList()
                .stream().filter(b -> b.getTrigger().getRule().equals(rule)).toList();
    }

    public static BadRequest badRequest(StatusRuntimeException e) {
        return detail(e, BadRequest.class);
    }

    public static ErrorInfo errorInfo(StatusRuntimeException e) {
        return detail(e, ErrorInfo.class);
    }

    private static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type) {
        com.google.rpc.Status status = io.grpc.protobuf.StatusProto.fromThrowable(e);
        try {
            for (com.google.protobuf.Any any : status.getDetailsList()) {
                if (any.is(type)) {
                    return any.unpack(type);
                }
            }
        } catch (InvalidProtocolBufferException ex) {
            throw new IllegalStateException(ex);
        }
        throw new AssertionError("no " + type.getSimpleName() + " in " + status);
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
