package dev.buildfarm.controller.tenancy;

import dev.buildfarm.api.v1.CreateTokenResponse;
import dev.buildfarm.api.v1.Namespace;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.common.Namespaces;
import dev.buildfarm.controller.api.ApiError;
import com.google.protobuf.Timestamp;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;

/** Namespaces and tokens in PostgreSQL; every method checks the caller first, so a refusal stores nothing. */
@ApplicationScoped
public class TenancyStore {

    private static final int MAX_DESCRIPTION = 255;

    @Inject
    TokenRegistry registry;

    @Transactional
    public Namespace createNamespace(Caller caller, String id) {
        caller.requireOperator("CreateNamespace");
        if (!Namespaces.isValid(id)) {
            throw ApiError.invalid("namespace_id", "'" + id + "' " + Namespaces.RULE);
        }
        if (NamespaceEntity.findById(id) != null) {
            throw ApiError.alreadyExists(NamespaceEntity.NAME_PREFIX + id + " already exists");
        }
        NamespaceEntity ns = new NamespaceEntity();
        ns.id = id;
        ns.createTime = now();
        ns.persist();
        return toProto(ns);
    }

    @Transactional
    public List<Namespace> listNamespaces(Caller caller) {
        List<NamespaceEntity> rows = caller.onlyNamespace()
                .map(ns -> NamespaceEntity.<NamespaceEntity>list("id", ns))
                .orElseGet(() -> NamespaceEntity.list("order by id"));
        return rows.stream().map(TenancyStore::toProto).toList();
    }

    public CreateTokenResponse createToken(Caller caller, Token request) {
        Tokens.Minted minted = Tokens.mint();
        TokenEntity stored = store(caller, request, minted);
        registry.added(stored);
        return CreateTokenResponse.newBuilder().setToken(toProto(stored)).setSecret(minted.token()).build();
    }

    @Transactional
    TokenEntity store(Caller caller, Token request, Tokens.Minted minted) {
        TokenEntity t = new TokenEntity();
        t.id = minted.id();
        t.secretSha256 = minted.secretSha256();
        t.kind = request.getKind() == Token.Kind.KIND_UNSPECIFIED ? Token.Kind.TENANT : request.getKind();
        if (request.getDescription().length() > MAX_DESCRIPTION) {
            throw ApiError.invalid("token.description", "at most " + MAX_DESCRIPTION + " characters");
        }
        t.description = request.getDescription();
        switch (t.kind) {
            case TENANT -> {
                caller.require(request.getNamespace(), Token.Role.ADMIN);
                if (request.getRole() == Token.Role.ROLE_UNSPECIFIED || request.getRole() == Token.Role.UNRECOGNIZED) {
                    throw ApiError.invalid("token.role", "a tenant token needs a role: VIEWER, SUBMITTER or ADMIN");
                }
                if (NamespaceEntity.findById(request.getNamespace()) == null) {
                    throw ApiError.failedPrecondition("NAMESPACE_NOT_FOUND", "token.namespace",
                            "namespace '" + request.getNamespace() + "' does not exist; create it first");
                }
                t.namespace = request.getNamespace();
                t.role = request.getRole();
            }
            case OPERATOR, AGENT -> {
                caller.requireOperator("a token of kind " + t.kind);
                if (!request.getNamespace().isEmpty() || request.getRole() != Token.Role.ROLE_UNSPECIFIED) {
                    throw ApiError.invalid("token.namespace", "a token of kind " + t.kind + " has no namespace and no role");
                }
            }
            default -> throw ApiError.invalid("token.kind", "unknown kind value " + request.getKindValue());
        }
        t.createTime = now();
        t.persist();
        return t;
    }

    @Transactional
    public List<Token> listTokens(Caller caller, String namespace) {
        List<TokenEntity> rows;
        if (!namespace.isEmpty()) {
            caller.require(namespace, Token.Role.ADMIN);
            rows = TokenEntity.list("namespace = ?1 order by createTime", namespace);
        } else if (caller.isOperator()) {
            rows = TokenEntity.list("order by createTime");
        } else {
            caller.require(caller.namespace(), Token.Role.ADMIN);
            rows = TokenEntity.list("namespace = ?1 order by createTime", caller.namespace());
        }
        return rows.stream().map(TenancyStore::toProto).toList();
    }

    public Token revokeToken(Caller caller, String name) {
        Token revoked = revoke(caller, name);
        registry.revoked(name.substring(TokenEntity.NAME_PREFIX.length()));
        return revoked;
    }

    @Transactional
    Token revoke(Caller caller, String name) {
        Optional<TokenEntity> found = Optional.empty();
        if (name.startsWith(TokenEntity.NAME_PREFIX)) {
            found = TokenEntity.findByIdOptional(name.substring(TokenEntity.NAME_PREFIX.length()));
        } else {
            throw ApiError.invalid("name", "'" + name + "' is not a token name like tokens/{id}");
        }
        TokenEntity t = found.orElseThrow(() -> ApiError.notFound(name + " does not exist"));
        if (t.kind == Token.Kind.TENANT) {
            caller.require(t.namespace, Token.Role.ADMIN);
        } else {
            caller.requireOperator("revoking a token of kind " + t.kind);
        }
        if (t.revokeTime == null) {
            t.revokeTime = now();
        }
        return toProto(t);
    }

    private Instant now() {
        return registry.now().truncatedTo(ChronoUnit.MICROS);
    }

    static Namespace toProto(NamespaceEntity ns) {
        return Namespace.newBuilder().setName(NamespaceEntity.NAME_PREFIX + ns.id).setCreateTime(timestamp(ns.createTime)).build();
    }

    static Token toProto(TokenEntity t) {
        Token.Builder out = Token.newBuilder().setName(t.name()).setKind(t.kind).setDescription(t.description)
                .setCreateTime(timestamp(t.createTime));
        if (t.namespace != null) {
            out.setNamespace(t.namespace).setRole(t.role);
        }
        if (t.revokeTime != null) {
            out.setRevokeTime(timestamp(t.revokeTime));
        }
        return out.build();
    }

    private static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }
}
