package dev.buildfarm.controller.tenancy;

import dev.buildfarm.api.v1.Token;
import dev.buildfarm.controller.api.ApiError;
import io.grpc.Context;
import java.util.Optional;

/**
 * Who makes the current call, as its token says: the kind, and for a tenant token its namespace and
 * role. Decisions about namespaces are made from this and from stored records, never from a field
 * of the request.
 */
public record Caller(Token.Kind kind, String namespace, Token.Role role, String tokenId) {

    /** The caller of a buildfarm.v1 call, set by {@link AuthInterceptor}. */
    static final Context.Key<Caller> KEY = Context.key("buildfarm-caller");

    /** Every call while buildfarm.auth.enabled is false: acts everywhere, as the farm did before tokens. */
    public static final Caller UNRESTRICTED = new Caller(Token.Kind.OPERATOR, null, Token.Role.ADMIN, "");

    public static Caller current() {
        Caller caller = KEY.get();
        if (caller == null) {
            throw new IllegalStateException("no caller on this call: the authentication interceptor did not run");
        }
        return caller;
    }

    public boolean isOperator() {
        return kind == Token.Kind.OPERATOR;
    }

    /** The one namespace a tenant acts in; empty for an operator (every namespace). */
    public Optional<String> onlyNamespace() {
        return isOperator() ? Optional.empty() : Optional.of(namespace);
    }

    public boolean canRead(String ns) {
        return isOperator() || (kind == Token.Kind.TENANT && namespace.equals(ns));
    }

    /**
     * PERMISSION_DENIED unless the token acts in {@code ns} with at least {@code least}. The
     * namespace comes from the stored record the call touches (or, for a create, the one it would
     * create).
     */
    public void require(String ns, Token.Role least) {
        if (isOperator()) {
            return;
        }
        if (kind != Token.Kind.TENANT || !namespace.equals(ns)) {
            throw ApiError.permissionDenied("this token acts in namespace '" + namespace + "', not in '" + ns + "'");
        }
        if (role.getNumber() < least.getNumber()) {
            throw ApiError.permissionDenied("this token is " + role + " in '" + ns + "'; this needs " + least);
        }
    }

    public void requireOperator(String what) {
        if (!isOperator()) {
            throw ApiError.permissionDenied(what + " needs an operator token");
        }
    }
}
