package dev.buildfarm.controller.tenancy;

import com.google.protobuf.Timestamp;
import dev.buildfarm.api.v1.RegistryAuth;
import dev.buildfarm.api.v1.RegistryCredential;
import dev.buildfarm.api.v1.Token;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildSpecValidator;
import dev.buildfarm.controller.rules.SecretBox;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.Transactional;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A namespace's registry credentials: managed by its admins, the password sealed in the database and
 * opened only for the agent and the assembler working on one of the namespace's builds.
 */
@ApplicationScoped
public class RegistryCredentials {

    static final int MAX_USERNAME = 255;
    /** Room for long access tokens (cloud registries' JSON keys run to a few KB). */
    static final int MAX_PASSWORD_BYTES = 16 * 1024;
    private static final int MAX_PREFIX = 200;

    @Inject
    SecretBox box;

    @Inject
    Clock clock;

    private final SecureRandom random = new SecureRandom();

    @Transactional
    public RegistryCredential set(Caller caller, String requestedNamespace, RegistryCredential request) {
        String namespace = namespaceOf(caller, requestedNamespace);
        caller.require(namespace, Token.Role.ADMIN);
        validate(request);
        if (NamespaceEntity.findById(namespace) == null) {
            throw ApiError.failedPrecondition("NAMESPACE_NOT_FOUND", "namespace",
                    "namespace '" + namespace + "' does not exist; create it first");
        }
        String registry = request.getRegistry().toLowerCase(Locale.ROOT);
        RegistryCredentialEntity row = RegistryCredentialEntity.<RegistryCredentialEntity>find(
                "namespace = ?1 and registry = ?2 and repositoryPrefix = ?3", namespace, registry, request.getRepositoryPrefix())
                .firstResultOptional().orElseGet(() -> {
                    RegistryCredentialEntity created = new RegistryCredentialEntity();
                    created.id = newId();
                    created.namespace = namespace;
                    created.registry = registry;
                    created.repositoryPrefix = request.getRepositoryPrefix();
                    return created;
                });
        row.username = request.getUsername();
        row.sealedPassword = box.seal(request.getPassword());
        row.updateTime = clock.instant().truncatedTo(ChronoUnit.MICROS);
        row.persist();
        return toProto(row);
    }

    @Transactional
    public List<RegistryCredential> list(Caller caller, String namespace) {
        List<RegistryCredentialEntity> rows;
        if (namespace.isEmpty() && caller.isOperator()) {
            rows = RegistryCredentialEntity.list("order by namespace, registry, repositoryPrefix");
        } else {
            String ns = namespaceOf(caller, namespace);
            caller.require(ns, Token.Role.ADMIN);
            rows = RegistryCredentialEntity.list("namespace = ?1 order by registry, repositoryPrefix", ns);
        }
        return rows.stream().map(RegistryCredentials::toProto).toList();
    }

    @Transactional
    public RegistryCredential delete(Caller caller, String name) {
        String[] parts = name.split("/", -1);
        if (parts.length != 4 || !parts[0].equals("namespaces") || !parts[2].equals("registryCredentials")
                || parts[1].isEmpty() || parts[3].isEmpty()) {
            throw ApiError.invalid("name", "'" + abbreviate(name) + "' is not a name like namespaces/{namespace}/registryCredentials/{id}");
        }
        // The namespace in the name decides who may ask; the stored row must then agree with it.
        caller.require(parts[1], Token.Role.ADMIN);
        RegistryCredentialEntity row = RegistryCredentialEntity.<RegistryCredentialEntity>findByIdOptional(parts[3])
                .filter(r -> r.namespace.equals(parts[1]))
                .orElseThrow(() -> ApiError.notFound(name + " does not exist"));
        RegistryCredential deleted = toProto(row);
        row.delete();
        return deleted;
    }

    /**
     * The credential a build of {@code repository} (host/namespace/path) in {@code namespace} uses:
     * the namespace's credential for the host whose prefix is the longest matching one.
     */
    @Transactional
    public Optional<RegistryAuth> forRepository(String namespace, String repository) {
        int slash = repository.indexOf('/');
        if (slash <= 0) {
            return Optional.empty();
        }
        String registry = repository.substring(0, slash).toLowerCase(Locale.ROOT);
        String path = repository.substring(slash + 1);
        String underNamespace = path.startsWith(namespace + "/") ? path.substring(namespace.length() + 1) : "";
        return RegistryCredentialEntity.<RegistryCredentialEntity>list("namespace = ?1 and registry = ?2", namespace, registry)
                .stream()
                .filter(c -> covers(c.repositoryPrefix, underNamespace))
                .max(Comparator.comparingInt(c -> c.repositoryPrefix.length()))
                .map(c -> RegistryAuth.newBuilder().setRegistry(c.registry).setUsername(c.username)
                        .setPassword(box.open(c.sealedPassword)).build());
    }

    /** Whether a prefix covers a path under the namespace, by whole path components. */
    static boolean covers(String prefix, String path) {
        return prefix.isEmpty() || path.equals(prefix) || path.startsWith(prefix + "/");
    }

    private static String namespaceOf(Caller caller, String requested) {
        if (!requested.isEmpty()) {
            return requested;
        }
        if (caller.isOperator()) {
            throw ApiError.invalid("namespace", "is required with an operator token");
        }
        return caller.namespace();
    }

    private static void validate(RegistryCredential c) {
        List<ApiError.Violation> violations = new ArrayList<>();
        if (c.getRegistry().isEmpty()) {
            violations.add(new ApiError.Violation("credential.registry", "is required: the registry's host[:port], e.g. registry.example.com"));
        } else if (c.getRegistry().length() > 255 || !BuildSpecValidator.isValidRegistryHost(c.getRegistry())) {
            violations.add(new ApiError.Violation("credential.registry", "'" + abbreviate(c.getRegistry())
                    + "' is not a registry host[:port] (no scheme, no path), e.g. registry.example.com or 127.0.0.1:5002"));
        }
        String prefix = c.getRepositoryPrefix();
        if (!prefix.isEmpty() && (prefix.length() > MAX_PREFIX || !BuildSpecValidator.isValidPath(prefix))) {
            violations.add(new ApiError.Violation("credential.repository_prefix", "'" + abbreviate(prefix)
                    + "' must be up to " + MAX_PREFIX + " characters of repository path components below the namespace, e.g. team/app"));
        }
        if (c.getUsername().isBlank()) {
            violations.add(new ApiError.Violation("credential.username", "is required"));
        } else if (c.getUsername().length() > MAX_USERNAME) {
            violations.add(new ApiError.Violation("credential.username", "at most " + MAX_USERNAME + " characters"));
        } else if (c.getUsername().contains(":") || c.getUsername().chars().anyMatch(Character::isISOControl)) {
            violations.add(new ApiError.Violation("credential.username", "must not contain ':' or control characters (Basic authentication)"));
        }
        // Never quoted back: the rule only.
        int passwordBytes = c.getPassword().getBytes(StandardCharsets.UTF_8).length;
        if (passwordBytes == 0) {
            violations.add(new ApiError.Violation("credential.password", "is required"));
        } else if (passwordBytes > MAX_PASSWORD_BYTES) {
            violations.add(new ApiError.Violation("credential.password", "at most " + MAX_PASSWORD_BYTES + " bytes"));
        } else if (c.getPassword().chars().anyMatch(ch -> ch == '\n' || ch == '\r' || ch == 0)) {
            violations.add(new ApiError.Violation("credential.password", "must not contain line breaks or NUL"));
        }
        if (!c.getName().isEmpty()) {
            violations.add(new ApiError.Violation("credential.name", "is output only; leave it empty"));
        }
        if (!violations.isEmpty()) {
            throw ApiError.invalid(violations);
        }
    }

    private String newId() {
        byte[] bytes = new byte[8];
        random.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }

    static RegistryCredential toProto(RegistryCredentialEntity row) {
        Instant t = row.updateTime;
        return RegistryCredential.newBuilder()
                .setName(row.name())
                .setRegistry(row.registry)
                .setRepositoryPrefix(row.repositoryPrefix)
                .setUsername(row.username)
                .setUpdateTime(Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()))
                .build();
    }

    private static String abbreviate(String value) {
        return value.length() > 80 ? value.substring(0, 80) + "…" : value;
    }
}
