package dev.buildfarm.controller.logs;

import com.google.protobuf.Timestamp;
import com.google.protobuf.ByteString;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.metrics.FarmMetrics;
import io.quarkus.runtime.configuration.MemorySize;
import io.quarkus.scheduler.Scheduled;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The logs of running platform builds, in memory: the front of the log path.
 *
 * <p>A batch from an agent is checked (attempt, sequences), given its offsets and added at once to a
 * small live tail that followers read, then stored in PostgreSQL right behind, in order, by one
 * writer per platform build that takes whatever has queued up. The agent hears a sequence
 * acknowledged only once it is stored. Offsets are given here and nowhere else, so what a follower
 * reads from the tail and what it reads from the store agree line for line; a follower reads the
 * store up to where the tail begins, then the tail. Lines accepted here are always stored (retried
 * while this process lives); an agent resends what was not acknowledged, and sequences seen are
 * dropped. A platform build's tail is dropped once it has ended and everything is stored.
 *
 * <p>The tail and the store queue share the accepted chunks, held as columns (a string per line,
 * read times in a long[]); a follower's messages are made as it reads. A message per line held in
 * the tail made a burst several objects a line for the collector to copy, in pauses on the log path.
 */
@ApplicationScoped
public class LiveLogs {

    private static final Logger LOG = Logger.getLogger(LiveLogs.class);
    static final String TRUNCATED = "[buildfarm] log truncated: this build's log reached %d bytes; later lines are dropped";
    private static final int MAX_LINE_BYTES = 64 * 1024;
    private static final int MAX_STAGE_LENGTH = 255;
    /** What a held line costs besides its text, roughly: the string and its slots in the columns. */
    private static final long LINE_OVERHEAD = 64;
    private static final long IDLE_NANOS = 60_000_000_000L;
    private static final long QUIET_NANOS = 2_000_000_000L;

    @ConfigProperty(name = "buildfarm.logs.max-bytes-per-build")
    long maxBytesPerBuild;

    /** Memory the stored lines in the live tail of one running platform build take at most (unstored ones are held until stored). */
    @ConfigProperty(name = "buildfarm.logs.live-tail-size")
    MemorySize liveTailSize;

    @Inject
    LogStore store;

    @Inject
    BuildSignals signals;

    @Inject
    FarmMetrics metrics;

    /** What an agent is told: every sequence up to {@code ackedSequence} is stored (or never will be: cancelled). */
    public record Ack(long ackedSequence, boolean cancelRequested, UUID buildId) {
    }

    /** The byte count of one build's log, shared by its platforms, for the per-build cap. */
    private static final class Budget {
        long bytes;
        boolean truncated;
    }

    /** One platform build's log in memory. Guarded by its own monitor. */
    private static final class Live {
        final UUID id;
        final UUID buildId;
        final String platform;
        final ByteString platformBytes;
        final Budget budget;
        int attempt;
        boolean running;
        boolean cancelRequested;
        boolean ended;
        long lastSequence;
        long ackedSequence;
        long nextOffset;
        /** Lines below this offset are stored. */
        long storedEnd;
        /** The tail: lines [tailStart, nextOffset), as the chunks that accepted them, by first offset. */
        final TreeMap<Long, LogStore.Chunk> tail = new TreeMap<>();
        long tailStart;
        long tailBytes;
        final ArrayDeque<LogStore.Chunk> unstored = new ArrayDeque<>();
        boolean storing;
        long lastUsed = System.nanoTime();
        final Set<Consumer<Ack>> listeners = new CopyOnWriteArraySet<>();

        Live(UUID id, LogStore.Position at, Budget budget) {
            this.id = id;
            this.buildId = at.buildId();
            this.platform = at.platform();
            this.platformBytes = ByteString.copyFromUtf8(at.platform());
            this.budget = budget;
            this.attempt = at.attempt();
            this.running = at.state() == BuildState.RUNNING;
            this.cancelRequested = at.state() == BuildState.CANCELLED;
            this.ended = !running;
            this.lastSequence = at.sequence();
            this.ackedSequence = at.sequence();
            this.nextOffset = at.lines();
            this.storedEnd = at.lines();
            this.tailStart = at.lines();
        }

        void add(LogStore.Chunk chunk, long cap) {
            tail.put(chunk.firstOffset(), chunk);
            tailBytes += cost(chunk);
            trim(cap);
        }

        /** Only stored chunks leave the tail: a follower behind it finds them in the store. Chunks not
         *  stored yet are held anyway (queued for the store), so keeping them costs nothing more. */
        void trim(long cap) {
            while (tailBytes > cap && tail.size() > 1) {
                LogStore.Chunk first = tail.firstEntry().getValue();
                if (first.firstOffset() + first.size() > storedEnd) {
                    return;
                }
                tail.pollFirstEntry();
                tailBytes -= cost(first);
                tailStart = tail.firstKey();
            }
        }

        Ack ack() {
            return new Ack(ackedSequence, cancelRequested, buildId);
        }
    }

    private final Map<UUID, Live> lives = new ConcurrentHashMap<>();
    private final Map<UUID, Budget> budgets = new ConcurrentHashMap<>();
    private final ExecutorService writers = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "log-writer");
        t.setDaemon(true);
        return t;
    });

    /** The chunk's text bytes, counted once when it was accepted, and the overhead of each line. */
    private static long cost(LogStore.Chunk chunk) {
        return chunk.bytes() + chunk.size() * LINE_OVERHEAD;
    }

    /**
     * Takes one agent batch: new sequences get offsets, go to the live tail and to the store queue.
     * Answers what is acknowledged so far; {@code listener} (if any) hears every later acknowledgement.
     */
    public Ack accept(String jobId, int attempt, List<LogLine> lines, Consumer<Ack> listener) {
        return accept(jobId, attempt, AgentLines.of(lines), listener);
    }

    /** Like {@link #accept(String, int, List, Consumer)}, for a batch in either form. */
    public Ack accept(String jobId, int attempt, AgentLines lines, Consumer<Ack> listener) {
        Live live = live(jobId);
        Ack ack;
        boolean added = false;
        synchronized (live) {
            live.lastUsed = System.nanoTime();
            if (attempt > live.attempt) {
                refresh(live, attempt);
            }
            if (attempt != live.attempt || (!live.running && !live.cancelRequested)) {
                throw ApiError.failedPrecondition("STALE_ATTEMPT", "attempt " + attempt + " of job " + jobId
                        + " no longer holds the lease (current attempt " + live.attempt + ")");
            }
            if (listener != null) {
                live.listeners.add(listener);
            }
            long last = lines.lastSequence();
            if (live.cancelRequested) {
                // Nobody wants the output of a cancelled attempt: acknowledged, not kept.
                live.ackedSequence = Math.max(live.ackedSequence, last);
                return live.ack();
            }
            if (lines.size() > 0 && lines.sequences[0] > live.lastSequence + 1) {
                throw ApiError.aborted("LOG_SEQUENCE_GAP", "job " + jobId + " sent sequence " + lines.sequences[0]
                        + " before " + (live.lastSequence + 1) + "; send the unacknowledged lines again");
            }
            added = add(live, attempt, lines);
            ack = live.ack();
        }
        if (added) {
            signals.signal(live.buildId);
        }
        return ack;
    }

    /** Like {@link #accept}, then waits until the batch is stored: the answer of a unary AppendLogs. */
    public Ack acceptAndStore(String jobId, int attempt, List<LogLine> lines) {
        return acceptAndStore(jobId, attempt, AgentLines.of(lines));
    }

    public Ack acceptAndStore(String jobId, int attempt, AgentLines lines) {
        Ack ack = accept(jobId, attempt, lines, null);
        long last = lines.lastSequence();
        Live live = lives.get(UUID.fromString(jobId));
        if (live == null) {
            return ack;
        }
        long deadline = System.nanoTime() + 30_000_000_000L;
        synchronized (live) {
            try {
                while (live.attempt == attempt && live.ackedSequence < last && !live.cancelRequested) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        throw new IllegalStateException("log lines of job " + jobId + " not stored within 30 s");
                    }
                    live.wait(Math.max(1, left / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            return live.ack();
        }
    }

    /** A stream that ended stops hearing acknowledgements. */
    public void unlisten(String jobId, Consumer<Ack> listener) {
        try {
            Live live = lives.get(UUID.fromString(jobId));
            if (live != null) {
                live.listeners.remove(listener);
            }
        } catch (IllegalArgumentException ignored) {
            // not a job id: never listened
        }
    }

    /** Lines held in memory from {@code offset}: null if the tail no longer reaches back to it (read the store). */
    public List<BuildLogLine> read(UUID platformBuildId, long offset, int limit, long maxBytes) {
        Live live = lives.get(platformBuildId);
        if (live == null) {
            return null;
        }
        long end;
        List<LogStore.Chunk> chunks;
        synchronized (live) {
            if (offset < live.tailStart) {
                return null;
            }
            if (offset >= live.nextOffset && live.unstored.isEmpty() && System.nanoTime() - live.lastUsed > QUIET_NANOS) {
                // Nothing written here lately: the agent may be writing through another controller.
                return null;
            }
            end = Math.min(live.nextOffset, offset + limit);
            if (offset >= end) {
                return List.of();
            }
            chunks = new ArrayList<>(live.tail.subMap(live.tail.floorKey(offset), true, end, false).values());
        }
        // Chunks never change once accepted: the messages are made outside the monitor, which the
        // agent's next batch is waiting for.
        List<BuildLogLine> out = new ArrayList<>();
        long bytes = 0;
        String stage = null;
        ByteString stageBytes = null;
        long o = offset;
        for (LogStore.Chunk chunk : chunks) {
            if (o >= end || bytes >= maxBytes) {
                break;
            }
            for (int i = (int) (o - chunk.firstOffset()); i < chunk.size() && o < end && bytes < maxBytes; i++, o++) {
                if (!chunk.stages()[i].equals(stage)) {
                    // Lines of one step share one stage string, sent as the same bytes.
                    stage = chunk.stages()[i];
                    stageBytes = ByteString.copyFromUtf8(stage);
                }
                long micros = chunk.readMicros()[i];
                BuildLogLine line = BuildLogLine.newBuilder()
                        .setPlatformBytes(live.platformBytes)
                        .setOffset(o)
                        .setAttempt(chunk.attempt())
                        .setStageBytes(stageBytes)
                        .setText(chunk.texts()[i])
                        // Microseconds, as the store keeps them: a line reads the same from the tail and from the store.
                        .setTime(Timestamp.newBuilder()
                                .setSeconds(Math.floorDiv(micros, 1_000_000L))
                                .setNanos((int) Math.floorMod(micros, 1_000_000L) * 1_000))
                        .build();
                // Computed once per line and kept by the message, which needs it to be sent anyway.
                bytes += line.getSerializedSize();
                out.add(line);
            }
        }
        return out;
    }

    /** The platform build has ended (its agent finished it): its tail goes once all is stored. */
    public void ended(UUID platformBuildId) {
        Live live = lives.get(platformBuildId);
        if (live != null) {
            synchronized (live) {
                live.ended = true;
                live.running = false;
                dropIfDone(live);
            }
        }
    }

    /** Drops the tails of platform builds nobody has written for a while (cancelled, lost agents). */
    @Scheduled(every = "30s", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void sweep() {
        long now = System.nanoTime();
        for (Live live : lives.values()) {
            synchronized (live) {
                if (now - live.lastUsed > IDLE_NANOS) {
                    live.ended = true;
                    dropIfDone(live);
                }
            }
        }
        budgets.keySet().removeIf(buildId -> lives.values().stream().noneMatch(l -> l.buildId.equals(buildId)));
    }

    @PreDestroy
    void stop() {
        writers.shutdown();
    }

    private Live live(String jobId) {
        UUID id;
        try {
            id = UUID.fromString(jobId);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("job_id", "'" + jobId + "' is not a job id");
        }
        Live live = lives.get(id);
        if (live != null) {
            return live;
        }
        LogStore.Position at = store.position(id).orElseThrow(() -> ApiError.notFound("job " + jobId + " does not exist"));
        Budget budget = budgets.computeIfAbsent(at.buildId(), b -> {
            Budget fresh = new Budget();
            fresh.bytes = at.buildBytes();
            fresh.truncated = at.buildTruncated();
            return fresh;
        });
        return lives.computeIfAbsent(id, k -> new Live(id, at, budget));
    }

    /** A batch names a newer attempt than the one known here: learn it from the store (a new claim). */
    private void refresh(Live live, int attempt) {
        LogStore.Position at = store.position(live.id).orElseThrow();
        if (at.attempt() != attempt) {
            return;
        }
        live.attempt = at.attempt();
        live.running = at.state() == BuildState.RUNNING;
        live.cancelRequested = at.state() == BuildState.CANCELLED;
        live.ended = !live.running;
        // A new attempt numbers its lines from 1 again; its offsets go on after everything accepted.
        live.lastSequence = 0;
        live.ackedSequence = 0;
    }

    /** Gives new lines their offsets, adds them to the tail and queues them for the store. Holds live's monitor. */
    private boolean add(Live live, int attempt, AgentLines lines) {
        int n = lines.size();
        String[] texts = new String[n];
        String[] stages = new String[n];
        long[] readMicros = new long[n];
        int count = 0;
        long first = live.nextOffset;
        long bytes = 0;
        boolean truncates = false;
        long cap = liveTailSize.asLongValue();
        long nowMicros = 0;
        String stage = null;
        Budget budget = live.budget;
        // The budget is shared by the build's platforms: taken once per batch, always inside live's monitor.
        synchronized (budget) {
            for (int i = 0; i < n; i++) {
                long sequence = lines.sequences[i];
                if (sequence <= live.lastSequence) {
                    continue; // sent again after a reconnect: accepted already
                }
                live.lastSequence = sequence;
                if (budget.truncated) {
                    continue;
                }
                String text = clean(lines.texts[i]);
                long size = utf8Length(text) + 1;
                boolean marker = budget.bytes + size > maxBytesPerBuild;
                if (marker) {
                    budget.truncated = true;
                    text = String.format(TRUNCATED, maxBytesPerBuild);
                    size = text.length() + 1;
                }
                budget.bytes += size;
                String lineStage = marker ? "" : lines.stages[i];
                if (!lineStage.equals(stage)) {
                    // Lines of one step share one stage string.
                    stage = lineStage.length() > MAX_STAGE_LENGTH ? lineStage.substring(0, MAX_STAGE_LENGTH) : lineStage;
                }
                long micros = lines.readMicros[i];
                if (micros == 0) {
                    nowMicros = nowMicros == 0 ? nowMicros() : nowMicros;
                    micros = nowMicros;
                }
                live.nextOffset++;
                texts[count] = text;
                stages[count] = stage;
                readMicros[count] = micros;
                count++;
                bytes += size;
                truncates |= marker;
            }
        }
        if (count == 0) {
            // Every new line was past the cap: acknowledged with the last chunk still queued, or at once.
            LogStore.Chunk queued = live.unstored.peekLast();
            if (queued != null && queued.attempt() == attempt) {
                live.unstored.removeLast();
                live.unstored.add(new LogStore.Chunk(attempt, queued.firstOffset(), live.lastSequence, queued.size(),
                        queued.stages(), queued.texts(), queued.readMicros(), queued.bytes(), queued.truncates()));
            } else {
                live.ackedSequence = live.lastSequence;
            }
            return false;
        }
        metrics.logBytes(live.platform, bytes);
        LogStore.Chunk chunk = new LogStore.Chunk(attempt, first, live.lastSequence, count, stages, texts, readMicros, bytes, truncates);
        live.unstored.add(chunk);
        live.add(chunk, cap);
        if (!live.storing) {
            live.storing = true;
            writers.execute(() -> write(live));
        }
        return true;
    }

    /** The writer of one platform build: stores what has queued up, in order, until nothing is left. */
    private void write(Live live) {
        long backoff = 100;
        while (true) {
            List<LogStore.Chunk> chunks;
            synchronized (live) {
                if (live.unstored.isEmpty()) {
                    live.storing = false;
                    dropIfDone(live);
                    return;
                }
                chunks = new ArrayList<>(live.unstored);
            }
            LogStore.Stored stored;
            try {
                stored = store.store(live.buildId, live.id, chunks);
                backoff = 100;
            } catch (RuntimeException e) {
                // Accepted lines are kept and tried again: followers may have them already.
                LOG.warnf(e, "storing %d log chunks of platform build %s failed; trying again in %d ms", chunks.size(), live.id, backoff);
                sleep(backoff);
                backoff = Math.min(backoff * 2, 5_000);
                continue;
            }
            Ack ack;
            synchronized (live) {
                for (int i = 0; i < chunks.size(); i++) {
                    LogStore.Chunk chunk = live.unstored.removeFirst();
                    live.storedEnd = chunk.firstOffset() + chunk.size();
                    if (chunk.attempt() == live.attempt) {
                        live.ackedSequence = Math.max(live.ackedSequence, chunk.lastSequence());
                    }
                }
                if (stored.attempt() == live.attempt) {
                    live.running &= stored.state() == BuildState.RUNNING;
                    live.cancelRequested = stored.state() == BuildState.CANCELLED;
                }
                ack = live.ack();
                live.notifyAll();
            }
            signals.signal(live.buildId);
            for (Consumer<Ack> listener : live.listeners) {
                listener.accept(ack);
            }
        }
    }

    /** Holds live's monitor. */
    private void dropIfDone(Live live) {
        if (live.ended && !live.storing && live.unstored.isEmpty()) {
            lives.remove(live.id, live);
        }
    }

    /** Text safe to store and send: no NUL (PostgreSQL text refuses it), at most 64 KiB. */
    private static String clean(String text) {
        String t = text.indexOf('\0') >= 0 ? text.replace("\0", "") : text;
        if (t.length() * 3L <= MAX_LINE_BYTES) {
            return t;
        }
        byte[] bytes = t.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_LINE_BYTES) {
            return t;
        }
        // Cut at a character boundary: a decoder replaces a split character with U+FFFD, so cut before it.
        int end = MAX_LINE_BYTES;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--;
        }
        return new String(bytes, 0, end, StandardCharsets.UTF_8) + " [line truncated]";
    }

    /** What {@code text.getBytes(UTF_8).length} answers, without making the bytes: this runs for every line. */
    static int utf8Length(String text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes++;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes++; // an unpaired surrogate is encoded as '?'
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    private static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
