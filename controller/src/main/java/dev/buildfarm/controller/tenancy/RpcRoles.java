package dev.buildfarm.controller.tenancy;

import dev.buildfarm.api.v1.Token.Role;
import java.util.Map;
import java.util.Optional;

/**
 * The least role each tenant RPC needs in some namespace; the call itself then checks the namespace
 * of what it touches. A buildfarm.v1 method missing here is refused to every tenant (fail closed).
 */
final class RpcRoles {

    static final String AGENT_SERVICE = "buildfarm.v1.AgentService";

    private static final Map<String, Role> LEAST = Map.ofEntries(
            Map.entry("buildfarm.v1.BuildService/SubmitBuild", Role.SUBMITTER),
            Map.entry("buildfarm.v1.BuildService/GetBuild", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildService/ListBuilds", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildService/CancelBuild", Role.SUBMITTER),
            Map.entry("buildfarm.v1.BuildService/RetryBuild", Role.SUBMITTER),
            Map.entry("buildfarm.v1.BuildService/StreamBuildLogs", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildService/WatchBuilds", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildService/ListAgents", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildService/UploadContext", Role.SUBMITTER),
            Map.entry("buildfarm.v1.BuildRuleService/CreateRepository", Role.ADMIN),
            Map.entry("buildfarm.v1.BuildRuleService/GetRepository", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildRuleService/ListRepositories", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildRuleService/UpdateRepository", Role.ADMIN),
            Map.entry("buildfarm.v1.BuildRuleService/DeleteRepository", Role.ADMIN),
            Map.entry("buildfarm.v1.BuildRuleService/CreateBuildRule", Role.ADMIN),
            Map.entry("buildfarm.v1.BuildRuleService/GetBuildRule", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildRuleService/ListBuildRules", Role.VIEWER),
            Map.entry("buildfarm.v1.BuildRuleService/UpdateBuildRule", Role.ADMIN),
            Map.entry("buildfarm.v1.BuildRuleService/DeleteBuildRule", Role.ADMIN),
            Map.entry("buildfarm.v1.BuildRuleService/RunBuildRule", Role.SUBMITTER),
            // Operator only, decided in the call.
            Map.entry("buildfarm.v1.TenancyService/CreateNamespace", Role.ADMIN),
            Map.entry("buildfarm.v1.TenancyService/ListNamespaces", Role.VIEWER),
            Map.entry("buildfarm.v1.TenancyService/CreateToken", Role.ADMIN),
            Map.entry("buildfarm.v1.TenancyService/ListTokens", Role.ADMIN),
            Map.entry("buildfarm.v1.TenancyService/RevokeToken", Role.ADMIN),
            Map.entry("buildfarm.v1.TenancyService/SetRegistryCredential", Role.ADMIN),
            Map.entry("buildfarm.v1.TenancyService/ListRegistryCredentials", Role.ADMIN),
            Map.entry("buildfarm.v1.TenancyService/DeleteRegistryCredential", Role.ADMIN));

    private RpcRoles() {
    }

    static Optional<Role> least(String fullMethodName) {
        return Optional.ofNullable(LEAST.get(fullMethodName));
    }
}
