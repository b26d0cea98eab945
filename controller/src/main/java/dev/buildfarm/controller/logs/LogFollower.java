package dev.buildfarm.controller.logs;

import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogChunk;
import dev.buildfarm.api.v1.StreamBuildLogsRequest;
import dev.buildfarm.common.Platform;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.quarkus.narayana.jta.QuarkusTransaction;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Serves StreamBuildLogs: replays each selected platform's lines from the offset, then follows new
 * ones until the build is final and everything is sent. Lines are read at the follower's own pace,
 * from the store and then from the live tail of a running platform build ({@link LiveLogs}), and sent only while the client's stream is ready: a watcher that stops
 * reading holds nothing but its own thread, never the agents or other watchers.
 */
@ApplicationScoped
public class LogFollower {

    private static final Logger LOG = Logger.getLogger(LogFollower.class);
    private static final int BATCH = 10_000;
    private static final long IDLE_WAIT_MILLIS = 1_000;
    private static final long STATE_CHECK_MILLIS = 250;
    private static final long MAX_CHUNK_BYTES = 1024 * 1024;
    /**
     * Bytes of one message from the live tail: a watcher reads a message whole before it asks for
     * more, so smaller messages let it read one while the next is on its way.
     */
    private static final long MAX_LIVE_CHUNK_BYTES = 128 * 1024;

    @Inject
    BuildStore store;

    @Inject
    LogStore logs;

    @Inject
    LiveLogs live;

    @Inject
    BuildSignals signals;

    private final ExecutorService followers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "log-follower");
        t.setDaemon(true);
        return t;
    });

    /** Validates the request now (errors go back at once), then streams on a follower thread. */
    public void start(StreamBuildLogsRequest request, ServerCallStreamObserver<LogChunk> observer) {
        UUID buildId = BuildStore.parseName(request.getName())
                .orElseThrow(() -> ApiError.invalid("name", "'" + request.getName() + "' is not a build name like builds/{id}"));
        if (request.getOffset() < 0) {
            throw ApiError.invalid("offset", request.getOffset() + " is negative; offsets count lines from 0");
        }
        BuildEntity build = store.findByName(request.getName())
                .orElseThrow(() -> ApiError.notFound(request.getName() + " does not exist"));
        Map<UUID, String> selected = new LinkedHashMap<>();
        String wanted = "";
        if (!request.getPlatform().isEmpty()) {
            try {
                wanted = Platform.parse(request.getPlatform()).toString();
            } catch (IllegalArgumentException e) {
                throw ApiError.invalid("platform", e.getMessage());
            }
        }
        for (PlatformBuildEntity pb : build.platformBuilds) {
            if (wanted.isEmpty() || wanted.equals(pb.platform)) {
                selected.put(pb.id, pb.platform);
            }
        }
        if (selected.isEmpty()) {
            throw ApiError.invalid("platform", "'" + wanted + "' is not a platform of " + build.name());
        }
        Object ready = new Object();
        observer.setOnReadyHandler(() -> {
            synchronized (ready) {
                ready.notifyAll();
            }
        });
        followers.execute(() -> follow(buildId, selected, request.getOffset(), request.getFollow(), observer, ready));
    }

    private void follow(UUID buildId, Map<UUID, String> selected, long offset, boolean follow,
                        ServerCallStreamObserver<LogChunk> observer, Object ready) {
        Map<UUID, Long> next = new LinkedHashMap<>();
        selected.keySet().forEach(id -> next.put(id, offset));
        long stateDue = System.nanoTime();
        try {
            while (!observer.isCancelled()) {
                if (sendAvailable(selected, next, observer, ready)) {
                    continue;
                }
                long seen = signals.seen(buildId);
                // A busy log catches up after every agent batch: the build's state (a database read) is
                // looked at no more often than every STATE_CHECK_MILLIS meanwhile.
                long untilDue = stateDue - System.nanoTime();
                boolean checked = !follow || untilDue <= 0;
                // Read the state before looking again: lines stored before it turned final are then all seen.
                boolean finished = !follow || (checked && isFinal(buildId));
                if (checked) {
                    stateDue = System.nanoTime() + STATE_CHECK_MILLIS * 1_000_000;
                }
                if (sendAvailable(selected, next, observer, ready)) {
                    continue;
                }
                if (finished) {
                    observer.onCompleted();
                    return;
                }
                signals.await(buildId, seen, checked ? IDLE_WAIT_MILLIS : Math.max(1, untilDue / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.warnf(e, "log stream of build %s failed", buildId);
            observer.onError(Status.INTERNAL.withDescription("log stream failed; see the controller log").asRuntimeException());
        }
    }

    /**
     * Sends each platform's next lines: from the live tail when it reaches back to the follower's
     * offset, else from the store. Both give a line the same offset, so switching loses or repeats none.
     */
    private boolean sendAvailable(Map<UUID, String> selected, Map<UUID, Long> next,
                                  ServerCallStreamObserver<LogChunk> observer, Object ready) throws InterruptedException {
        boolean sentAny = false;
        for (Map.Entry<UUID, String> pb : selected.entrySet()) {
            long from = next.get(pb.getKey());
            List<BuildLogLine> lines = live.read(pb.getKey(), from, BATCH, MAX_LIVE_CHUNK_BYTES);
            if (lines == null) {
                lines = QuarkusTransaction.requiringNew().call(() -> logs.read(pb.getKey(), pb.getValue(), from, BATCH));
            }
            if (lines.isEmpty()) {
                continue;
            }
            awaitReady(observer, ready);
            if (observer.isCancelled()) {
                return false;
            }
            observer.onNext(LogChunk.newBuilder().addAllLines(lines).build());
            next.put(pb.getKey(), lines.get(lines.size() - 1).getOffset() + 1);
            sentAny = true;
        }
        return sentAny;
    }

    private boolean isFinal(UUID buildId) {
        return QuarkusTransaction.requiringNew().call(() -> {
            BuildEntity build = BuildEntity.findById(buildId);
            return build.state.isFinal() || build.platformBuilds.stream().allMatch(pb -> pb.state.isFinal());
        });
    }

    private static void awaitReady(ServerCallStreamObserver<?> observer, Object ready) throws InterruptedException {
        synchronized (ready) {
            while (!observer.isReady() && !observer.isCancelled()) {
                ready.wait(1_000);
            }
        }
    }
}
