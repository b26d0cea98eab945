package dev.buildfarm.controller.tenancy;

import dev.buildfarm.api.v1.Token;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.Transactional;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The tokens that may act, in memory, so that checking one costs a map lookup and a SHA-256, never
 * a database round trip on the call's path. The whole table of live tokens is read again every
 * buildfarm.auth.refresh-interval (2 s), so a token revoked or created on another controller takes
 * effect here within that; this controller's own creations and revocations take effect at once.
 */
@ApplicationScoped
public class TokenRegistry {

    private static final Logger LOG = Logger.getLogger(TokenRegistry.class);

    record Live(Token.Kind kind, String namespace, Token.Role role, String secretSha256) {
    }

    /** Why a bearer token was not accepted; the message of the UNAUTHENTICATED status. */
    public static final class Refused extends Exception {
        public Refused(String message) {
            super(message, null, false, false);
        }
    }

    @Inject
    EntityManager em;

    @Inject
    Clock clock;

    @ConfigProperty(name = "buildfarm.auth.bootstrap-operator-token-file")
    Optional<String> operatorTokenFile;

    @ConfigProperty(name = "buildfarm.auth.bootstrap-agent-token-file")
    Optional<String> agentTokenFile;

    private volatile Map<String, Live> live = Map.of();

    /** Bumped by this controller's own changes, so a table read that began before one does not undo it. */
    private long localChanges;

    /** Before the gRPC server takes calls: bootstrap tokens stored, the table read. */
    void start(@Observes @Priority(1) StartupEvent event) throws IOException {
        bootstrap(operatorTokenFile, Token.Kind.OPERATOR);
        bootstrap(agentTokenFile, Token.Kind.AGENT);
        refresh();
    }

    /**
     * A token given to the controller in a file (by dev/services.sh or a Kubernetes secret): stored
     * by its hash under its id if that id is not stored yet, so a revoked one stays revoked.
     */
    private void bootstrap(Optional<String> file, Token.Kind kind) throws IOException {
        if (file.isEmpty() || file.get().isBlank()) {
            return;
        }
        Path path = Path.of(file.get());
        if (!Files.exists(path)) {
            LOG.warnf("no %s token file at %s; none bootstrapped", kind, path);
            return;
        }
        String token = Files.readString(path).trim();
        Tokens.Parsed parsed = Tokens.parse(token)
                .orElseThrow(() -> new IllegalStateException(path + " does not hold a token like bf_<16 hex>_<64 hex>"));
        storeIfAbsent(parsed, kind, "bootstrap: " + path.getFileName());
    }

    @Transactional
    void storeIfAbsent(Tokens.Parsed parsed, Token.Kind kind, String description) {
        em.createNativeQuery("insert into api_token (id, kind, secret_sha256, description, create_time) "
                        + "values (?1, ?2, ?3, ?4, ?5) on conflict (id) do nothing")
                .setParameter(1, parsed.id())
                .setParameter(2, kind.name())
                .setParameter(3, Tokens.sha256(parsed.secret()))
                .setParameter(4, description)
                .setParameter(5, clock.instant())
                .executeUpdate();
    }

    @Scheduled(every = "${buildfarm.auth.refresh-interval}", delayed = "${buildfarm.auth.refresh-interval}",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    @Transactional
    void refresh() {
        long before;
        synchronized (this) {
            before = localChanges;
        }
        Map<String, Live> next = new HashMap<>();
        for (TokenEntity t : TokenEntity.<TokenEntity>list("revokeTime is null")) {
            next.put(t.id, new Live(t.kind, t.namespace, t.role, t.secretSha256));
        }
        synchronized (this) {
            if (localChanges == before) {
                live = Map.copyOf(next);
            }
        }
    }

    /** The caller a bearer token stands for, or why it stands for none. */
    public Caller verify(String token) throws Refused {
        Tokens.Parsed parsed = Tokens.parse(token)
                .orElseThrow(() -> new Refused("malformed token: expected bf_<16 hex>_<64 hex>"));
        Live found = live.get(parsed.id());
        if (found == null || !Tokens.matches(parsed.secret(), found.secretSha256())) {
            throw new Refused("unknown or revoked token");
        }
        return new Caller(found.kind(), found.namespace(), found.role(), parsed.id());
    }

    /** After the transaction that stored {@code t} committed. */
    synchronized void added(TokenEntity t) {
        Map<String, Live> next = new HashMap<>(live);
        next.put(t.id, new Live(t.kind, t.namespace, t.role, t.secretSha256));
        live = Map.copyOf(next);
        localChanges++;
    }

    /** After the transaction that revoked token {@code id} committed. */
    synchronized void revoked(String id) {
        Map<String, Live> next = new HashMap<>(live);
        next.remove(id);
        live = Map.copyOf(next);
        localChanges++;
    }

    Instant now() {
        return clock.instant();
    }
}
