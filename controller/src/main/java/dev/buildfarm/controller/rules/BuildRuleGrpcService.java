package dev.buildfarm.controller.rules;

import com.google.protobuf.Empty;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.BuildRuleServiceGrpc;
import dev.buildfarm.api.v1.CreateBuildRuleRequest;
import dev.buildfarm.api.v1.CreateRepositoryRequest;
import dev.buildfarm.api.v1.DeleteBuildRuleRequest;
import dev.buildfarm.api.v1.DeleteRepositoryRequest;
import dev.buildfarm.api.v1.GetBuildRuleRequest;
import dev.buildfarm.api.v1.GetRepositoryRequest;
import dev.buildfarm.api.v1.ListBuildRulesRequest;
import dev.buildfarm.api.v1.ListBuildRulesResponse;
import dev.buildfarm.api.v1.ListRepositoriesRequest;
import dev.buildfarm.api.v1.ListRepositoriesResponse;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.RunBuildRuleRequest;
import dev.buildfarm.api.v1.UpdateBuildRuleRequest;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.api.v1.UpdateRepositoryRequest;
import dev.buildfarm.common.Namespaces;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.api.Rpc;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.rules.RuleNames.RuleName;
import dev.buildfarm.controller.tenancy.Caller;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;
import java.util.List;
import java.util.function.Supplier;

/** Repositories bound to git sources, their build rules, and the manual trigger. */
@GrpcService
@Blocking
public class BuildRuleGrpcService extends BuildRuleServiceGrpc.BuildRuleServiceImplBase {

    @Inject
    RuleStore store;

    @Inject
    RuleFiring firing;

    @Override
    public void createRepository(CreateRepositoryRequest request, StreamObserver<Repository> observer) {
        unary(observer, () -> {
            RuleNames.checkId(request.getRepositoryId(), "repository_id");
            Namespaces.ofRepository(request.getRepository().getImage())
                    .ifPresent(ns -> Caller.current().require(ns, Token.Role.ADMIN));
            return created(RepositoryEntity.NAME_PREFIX + request.getRepositoryId(),
                    () -> store.createRepository(request.getRepositoryId(), request.getRepository()),
                    () -> store.getRepository(request.getRepositoryId()));
        });
    }

    @Override
    public void getRepository(GetRepositoryRequest request, StreamObserver<Repository> observer) {
        unary(observer, () -> store.getRepository(owned(RuleNames.repositoryId(request.getName(), "name"), Token.Role.VIEWER)));
    }

    @Override
    public void listRepositories(ListRepositoriesRequest request, StreamObserver<ListRepositoriesResponse> observer) {
        unary(observer, () -> {
            int size = RuleNames.pageSize(request.getPageSize());
            List<Repository> page = store.listRepositories(RuleNames.afterId(request.getPageToken()), size + 1,
                    Caller.current().onlyNamespace());
            ListRepositoriesResponse.Builder response = ListRepositoriesResponse.newBuilder()
                    .addAllRepositories(page.subList(0, Math.min(size, page.size())));
            if (page.size() > size) {
                response.setNextPageToken(RuleNames.pageToken(RuleNames.repositoryId(page.get(size - 1).getName(), "name")));
            }
            return response.build();
        });
    }

    @Override
    public void updateRepository(UpdateRepositoryRequest request, StreamObserver<Repository> observer) {
        unary(observer, () -> store.updateRepository(owned(RuleNames.repositoryId(request.getRepository().getName(), "repository.name"), Token.Role.ADMIN),
                request.getRepository(), request.getUpdateMask()));
    }

    @Override
    public void deleteRepository(DeleteRepositoryRequest request, StreamObserver<Empty> observer) {
        unary(observer, () -> {
            store.deleteRepository(owned(RuleNames.repositoryId(request.getName(), "name"), Token.Role.ADMIN), request.getForce());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void createBuildRule(CreateBuildRuleRequest request, StreamObserver<BuildRule> observer) {
        unary(observer, () -> {
            String repositoryId = owned(RuleNames.repositoryId(request.getParent(), "parent"), Token.Role.ADMIN);
            RuleNames.checkId(request.getRuleId(), "rule_id");
            RuleName name = new RuleName(repositoryId, request.getRuleId());
            return created(name.toString(), () -> store.createRule(name, request.getRule()), () -> store.getRule(name));
        });
    }

    @Override
    public void getBuildRule(GetBuildRuleRequest request, StreamObserver<BuildRule> observer) {
        unary(observer, () -> store.getRule(owned(RuleNames.ruleName(request.getName(), "name"), Token.Role.VIEWER)));
    }

    @Override
    public void listBuildRules(ListBuildRulesRequest request, StreamObserver<ListBuildRulesResponse> observer) {
        unary(observer, () -> {
            String repositoryId = owned(RuleNames.repositoryId(request.getParent(), "parent"), Token.Role.VIEWER);
            int size = RuleNames.pageSize(request.getPageSize());
            List<BuildRule> page = store.listRules(repositoryId, RuleNames.afterId(request.getPageToken()), size + 1);
            ListBuildRulesResponse.Builder response = ListBuildRulesResponse.newBuilder()
                    .addAllRules(page.subList(0, Math.min(size, page.size())));
            if (page.size() > size) {
                response.setNextPageToken(RuleNames.pageToken(RuleNames.ruleName(page.get(size - 1).getName(), "name").ruleId()));
            }
            return response.build();
        });
    }

    @Override
    public void updateBuildRule(UpdateBuildRuleRequest request, StreamObserver<BuildRule> observer) {
        unary(observer, () -> store.updateRule(owned(RuleNames.ruleName(request.getRule().getName(), "rule.name"), Token.Role.ADMIN),
                request.getRule(), request.getUpdateMask()));
    }

    @Override
    public void deleteBuildRule(DeleteBuildRuleRequest request, StreamObserver<Empty> observer) {
        unary(observer, () -> {
            store.deleteRule(owned(RuleNames.ruleName(request.getName(), "name"), Token.Role.ADMIN));
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void runBuildRule(RunBuildRuleRequest request, StreamObserver<Build> observer) {
        unary(observer, () -> BuildMapper.toProto(
                firing.run(owned(RuleNames.ruleName(request.getName(), "name"), Token.Role.SUBMITTER), request.getRequestId())));
    }

    /**
     * The repository id, once the caller is known to act in its stored namespace with at least
     * {@code least}; an unknown repository is left to the store to answer NOT_FOUND.
     */
    private String owned(String repositoryId, Token.Role least) {
        store.namespaceOf(repositoryId).ifPresent(ns -> Caller.current().require(ns, least));
        return repositoryId;
    }

    private RuleName owned(RuleName rule, Token.Role least) {
        owned(rule.repositoryId(), least);
        return rule;
    }

    /** A create that lost a race with the same create reports ALREADY_EXISTS, not an internal error. */
    private static <T> T created(String name, Supplier<T> create, Supplier<T> existing) {
        try {
            return create.get();
        } catch (ApiError | StatusRuntimeException e) {
            throw e;
        } catch (RuntimeException e) {
            try {
                existing.get();
            } catch (RuntimeException notThere) {
                throw e;
            }
            throw RuleErrors.alreadyExists(name + " already exists");
        }
    }

    /** Rpc.unary, plus statuses built here (ALREADY_EXISTS) passed through as they are. */
    private static <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
        T response;
        try {
            response = call.get();
        } catch (StatusRuntimeException e) {
            observer.onError(e);
            return;
        } catch (RuntimeException e) {
            Rpc.unary(observer, () -> {
                throw e;
            });
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }
}
