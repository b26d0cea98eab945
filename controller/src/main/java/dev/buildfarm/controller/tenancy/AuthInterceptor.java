package dev.buildfarm.controller.tenancy;

import dev.buildfarm.api.v1.Token;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Authenticates every buildfarm.v1 call from its {@code authorization: Bearer <token>} metadata and
 * checks the kind of token and its least role for the method; the call then checks the namespace of
 * what it touches against {@link Caller#current()}. gRPC health and reflection stay open.
 */
@ApplicationScoped
@GlobalInterceptor
public class AuthInterceptor implements ServerInterceptor {

    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    private static final String BEARER = "Bearer ";

    @ConfigProperty(name = "buildfarm.auth.enabled")
    boolean enabled;

    @Inject
    TokenRegistry tokens;

    @Override
    public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
        String service = call.getMethodDescriptor().getServiceName();
        if (service == null || !service.startsWith("buildfarm.v1.")) {
            return next.startCall(call, headers);
        }
        Caller caller = Caller.UNRESTRICTED;
        if (enabled) {
            String header = headers.get(AUTHORIZATION);
            if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
                return refuse(call, Status.UNAUTHENTICATED.withDescription(
                        "missing credentials: send 'authorization: Bearer <token>' metadata"));
            }
            try {
                caller = tokens.verify(header.substring(BEARER.length()).trim());
            } catch (TokenRegistry.Refused e) {
                return refuse(call, Status.UNAUTHENTICATED.withDescription(e.getMessage()));
            }
            Optional<String> denied = denied(caller, service, call.getMethodDescriptor().getFullMethodName());
            if (denied.isPresent()) {
                return refuse(call, Status.PERMISSION_DENIED.withDescription(denied.get()));
            }
        }
        return Contexts.interceptCall(Context.current().withValue(Caller.KEY, caller), call, headers, next);
    }

    /** Why this kind of token, or this tenant's role, may not call the method at all. */
    static Optional<String> denied(Caller caller, String service, String method) {
        if (service.equals(RpcRoles.AGENT_SERVICE)) {
            return caller.kind() == Token.Kind.AGENT ? Optional.empty()
                    : Optional.of(method + " takes agent tokens only");
        }
        if (caller.kind() == Token.Kind.AGENT) {
            return Optional.of("an agent token may only call " + RpcRoles.AGENT_SERVICE);
        }
        if (caller.isOperator()) {
            return Optional.empty();
        }
        Optional<Token.Role> least = RpcRoles.least(method);
        if (least.isEmpty()) {
            return Optional.of(method + " is not open to tenant tokens");
        }
        if (caller.role().getNumber() < least.get().getNumber()) {
            return Optional.of("this token is " + caller.role() + " in '" + caller.namespace() + "'; "
                    + method + " needs " + least.get());
        }
        return Optional.empty();
    }

    private static <Q, A> ServerCall.Listener<Q> refuse(ServerCall<Q, A> call, Status status) {
        call.close(status, new Metadata());
        return new ServerCall.Listener<>() {
        };
    }
}
