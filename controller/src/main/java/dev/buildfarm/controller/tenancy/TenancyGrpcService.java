package dev.buildfarm.controller.tenancy;

import dev.buildfarm.api.v1.CreateNamespaceRequest;
import dev.buildfarm.api.v1.CreateTokenRequest;
import dev.buildfarm.api.v1.CreateTokenResponse;
import dev.buildfarm.api.v1.ListNamespacesRequest;
import dev.buildfarm.api.v1.ListNamespacesResponse;
import dev.buildfarm.api.v1.ListTokensRequest;
import dev.buildfarm.api.v1.ListTokensResponse;
import dev.buildfarm.api.v1.Namespace;
import dev.buildfarm.api.v1.DeleteRegistryCredentialRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsRequest;
import dev.buildfarm.api.v1.ListRegistryCredentialsResponse;
import dev.buildfarm.api.v1.RegistryCredential;
import dev.buildfarm.api.v1.RevokeTokenRequest;
import dev.buildfarm.api.v1.SetRegistryCredentialRequest;
import dev.buildfarm.api.v1.TenancyServiceGrpc;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.controller.api.Rpc;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.smallrye.common.annotation.Blocking;
import jakarta.inject.Inject;

/** Namespaces, API tokens and registry credentials. */
@GrpcService
@Blocking
public class TenancyGrpcService extends TenancyServiceGrpc.TenancyServiceImplBase {

    @Inject
    TenancyStore store;

    @Inject
    RegistryCredentials registryCredentials;

    @Override
    public void createNamespace(CreateNamespaceRequest request, StreamObserver<Namespace> observer) {
        Rpc.unary(observer, () -> store.createNamespace(Caller.current(), request.getNamespaceId()));
    }

    @Override
    public void listNamespaces(ListNamespacesRequest request, StreamObserver<ListNamespacesResponse> observer) {
        Rpc.unary(observer, () -> ListNamespacesResponse.newBuilder()
                .addAllNamespaces(store.listNamespaces(Caller.current())).build());
    }

    @Override
    public void createToken(CreateTokenRequest request, StreamObserver<CreateTokenResponse> observer) {
        Rpc.unary(observer, () -> store.createToken(Caller.current(), request.getToken()));
    }

    @Override
    public void listTokens(ListTokensRequest request, StreamObserver<ListTokensResponse> observer) {
        Rpc.unary(observer, () -> ListTokensResponse.newBuilder()
                .addAllTokens(store.listTokens(Caller.current(), request.getNamespace())).build());
    }

    @Override
    public void revokeToken(RevokeTokenRequest request, StreamObserver<Token> observer) {
        Rpc.unary(observer, () -> store.revokeToken(Caller.current(), request.getName()));
    }

    @Override
    public void setRegistryCredential(SetRegistryCredentialRequest request, StreamObserver<RegistryCredential> observer) {
        Rpc.unary(observer, () -> registryCredentials.set(Caller.current(), request.getNamespace(), request.getCredential()));
    }

    @Override
    public void listRegistryCredentials(ListRegistryCredentialsRequest request,
                                        StreamObserver<ListRegistryCredentialsResponse> observer) {
        Rpc.unary(observer, () -> ListRegistryCredentialsResponse.newBuilder()
                .addAllCredentials(registryCredentials.list(Caller.current(), request.getNamespace())).build());
    }

    @Override
    public void deleteRegistryCredential(DeleteRegistryCredentialRequest request, StreamObserver<RegistryCredential> observer) {
        Rpc.unary(observer, () -> registryCredentials.delete(Caller.current(), request.getName()));
    }
}
