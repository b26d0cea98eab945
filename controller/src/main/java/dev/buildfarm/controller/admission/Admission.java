package dev.buildfarm.controller.admission;

import dev.buildfarm.controller.AfterCommit;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.persistence.EntityManager;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.time.Clock;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Lets waiting platform jobs out to Kafka within the limits: at most {@code platform-limit} jobs in
 * flight (admitted, not ended) per platform and {@code namespace-limit} per namespace, the next one
 * from the namespace with the fewest in flight. One pass runs at a time across every controller
 * (a PostgreSQL advisory transaction lock), and each admitted job's admit_time and its outbox record
 * are written in the same transaction. A pass runs right after a submit, an end, a cancel or a retry
 * commits, and every second besides (a controller that died mid-way leaves nothing behind).
 */
@ApplicationScoped
public class Admission {

    private static final Logger LOG = Logger.getLogger(Admission.class);
    /** The advisory lock key of admission passes ("admit" in ASCII). */
    private static final long LOCK = 0x61646d6974L;
    /**
     * Jobs admitted in one transaction at most; the next pass follows at once. Each admission writes
     * entities that every later statement of the transaction flushes and dirty-checks, so one pass
     * over a backlog of thousands grew quadratically past the transaction timeout and admitted nothing.
     */
    static final int MAX_PER_PASS = 200;

    @Inject
    EntityManager em;

    @Inject
    Clock clock;

    @Inject
    BuildStore store;

    @Inject
    AdmissionLimits limits;

    @Inject
    AdmissionMetrics metrics;

    @Inject
    TransactionSynchronizationRegistry transactions;

    private final Semaphore wakeUp = new Semaphore(0);
    private volatile boolean running;
    private Thread thread;

    void start(@Observes StartupEvent event) {
        running = true;
        thread = new Thread(this::loop, "admission");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        wakeUp.release();
        if (thread != null) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Runs a pass once the caller's transaction commits (a job now waits, or a slot was freed). */
    public void passAfterCommit() {
        AfterCommit.run(transactions, wakeUp::release);
    }

    private void loop() {
        while (running) {
            try {
                wakeUp.tryAcquire(1, TimeUnit.SECONDS);
                wakeUp.drainPermits();
                if (running && QuarkusTransaction.requiringNew().call(this::pass).size() >= MAX_PER_PASS) {
                    wakeUp.release(); // more may wait: another pass now, not in a second
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.warnf("admission pass failed, trying again: %s", e.getMessage());
            }
        }
    }

    /** One admission pass, in the caller's transaction; returns the jobs admitted. */
    public List<UUID> pass() {
        em.createNativeQuery("select pg_advisory_xact_lock(?1)").setParameter(1, LOCK).getSingleResult();
        Map<String, Integer> platformInFlight = new HashMap<>();
        Map<String, Integer> namespaceInFlight = new HashMap<>();
        Map<String, Integer> byBoth = new HashMap<>();
        // In flight: admitted, not ended, of a build still going (a failed build's queued jobs are refused to agents).
        List<Object[]> rows = rows("select pb.platform, b.namespace, count(*) from platform_build pb"
                + " join build b on b.id = pb.build_id"
                + " where pb.admit_time is not null and pb.state in ('QUEUED', 'RUNNING') and b.state in ('QUEUED', 'RUNNING')"
                + " group by 1, 2", Map.of());
        for (Object[] r : rows) {
            int n = ((Number) r[2]).intValue();
            platformInFlight.merge((String) r[0], n, Integer::sum);
            namespaceInFlight.merge((String) r[1], n, Integer::sum);
            byBoth.put(r[0] + " " + r[1], n);
        }
        // The oldest few waiting jobs of each platform and namespace: more than that cannot be admitted in one pass.
        int perGroup = Math.max(1, Math.min(limits.largestNamespaceLimit(), MAX_PER_PASS));
        List<AdmissionChoice.Waiting> waiting = rows("select id, platform, ns from ("
                + "select pb.id, pb.platform, b.namespace ns, pb.create_time, row_number() over"
                + " (partition by pb.platform, b.namespace order by pb.create_time, pb.id) n"
                + " from platform_build pb join build b on b.id = pb.build_id"
                + " where pb.admit_time is null and pb.state = 'QUEUED' and b.state in ('QUEUED', 'RUNNING')) w"
                + " where n <= ?1 order by create_time, id", Map.of(1, perGroup))
                .stream().map(r -> new AdmissionChoice.Waiting((UUID) r[0], (String) r[1], (String) r[2])).toList();
        metrics.observed(byBoth, waitingCounts());
        if (waiting.isEmpty()) {
            return List.of();
        }
        List<AdmissionChoice.Waiting> chosen = new AdmissionChoice(platformInFlight, namespaceInFlight,
                limits::platformLimit, limits::namespaceLimit).choose(waiting);
        if (chosen.size() > MAX_PER_PASS) {
            chosen = chosen.subList(0, MAX_PER_PASS); // in the choice's fair order
        }
        Instant now = clock.instant();
        List<UUID> admitted = new java.util.ArrayList<>();
        for (AdmissionChoice.Waiting w : chosen) {
            // A conditional update, not an entity write: a cancel that commits meanwhile wins (the row
            // lock makes this update wait and then re-check the job, which no longer matches).
            int updated = em.createNativeQuery("update platform_build pb set admit_time = ?1 where pb.id = ?2"
                    + " and pb.admit_time is null and pb.state = 'QUEUED'"
                    + " and exists (select 1 from build b where b.id = pb.build_id and b.state in ('QUEUED', 'RUNNING'))")
                    .setParameter(1, now).setParameter(2, w.id()).executeUpdate();
            if (updated == 1) {
                PlatformBuildEntity pb = em.find(PlatformBuildEntity.class, w.id());
                store.dispatch(pb, BuildMapper.specFromJson(pb.build.spec));
                admitted.add(w.id());
            }
        }
        return admitted;
    }

    /** Waiting jobs by "platform namespace", for the metrics (read at most every few seconds). */
    private Map<String, Integer> waitingCounts() {
        if (!metrics.due()) {
            return null;
        }
        Map<String, Integer> counts = new HashMap<>();
        rows("select pb.platform, b.namespace, count(*) from platform_build pb join build b on b.id = pb.build_id"
                + " where pb.admit_time is null and pb.state = 'QUEUED' and b.state in ('QUEUED', 'RUNNING') group by 1, 2", Map.of())
                .forEach(r -> counts.put(r[0] + " " + r[1], ((Number) r[2]).intValue()));
        return counts;
    }

    @SuppressWarnings("unchecked")
    private List<Object[]> rows(String sql, Map<Integer, Object> params) {
        var query = em.createNativeQuery(sql);
        params.forEach(query::setParameter);
        return query.getResultList();
    }
}
