package dev.buildfarm.controller.logs;

import com.google.protobuf.util.Timestamps;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildState;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.quarkus.hibernate.orm.panache.Panache;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.persistence.LockModeType;
import jakarta.transaction.Transactional;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.Session;
import org.postgresql.PGConnection;

/**
 * Build output in PostgreSQL: rows (chunks) of consecutive lines as parallel arrays, keyed by their
 * first offset. {@link LiveLogs} gives the offsets and hands chunks over in order; they are written
 * under the build's row lock, so the stored log of a platform never has a gap.
 */
@ApplicationScoped
public class LogStore {

    /** Chunks one read looks at; a chunk holds one agent batch (at most a few thousand lines). */
    private static final int CHUNKS_PER_READ = 16;
    /** Bytes of text one read returns at most (past its first line), keeping a LogChunk message small. */
    private static final long MAX_READ_BYTES = 1024 * 1024;
    /** Lines one stored row holds at most, so a reader resuming inside it reads little it skips. */
    static final int MAX_LINES_PER_ROW = 10_000;

    @Inject
    Clock clock;

    @ConfigProperty(name = "buildfarm.lease-timeout")
    Duration leaseTimeout;

    /**
     * Lines {@link LiveLogs} accepted from one agent batch, with their offsets given: the first
     * {@code size} entries of the columns run from {@code firstOffset} without a gap;
     * {@code lastSequence} is the batch's highest sequence.
     */
    public record Chunk(int attempt, long firstOffset, long lastSequence, int size, String[] stages, String[] texts,
                        long[] readMicros, long bytes, boolean truncates) {
    }

    /** What the stored platform build is now: its current attempt and state. */
    public record Stored(int attempt, BuildState state) {
    }

    /**
     * Stores accepted chunks, in order, under the build's row lock: contiguous chunks of one attempt
     * become one row (at most {@value #MAX_LINES_PER_ROW} lines), the platform build's counters move
     * on, and a running attempt's lease is extended as by any report.
     */
    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public Stored store(UUID buildId, UUID platformBuildId, List<Chunk> chunks) {
        BuildEntity build = BuildEntity.findById(buildId, LockModeType.PESSIMISTIC_WRITE);
        PlatformBuildEntity pb = build.platformBuilds.stream().filter(p -> p.id.equals(platformBuildId)).findFirst().orElseThrow();
        List<List<Chunk>> rows = new ArrayList<>();
        for (Chunk chunk : chunks) {
            List<Chunk> row = rows.isEmpty() ? null : rows.get(rows.size() - 1);
            if (row == null || row.get(0).attempt() != chunk.attempt()
                    || row.stream().mapToInt(Chunk::size).sum() + chunk.size() > MAX_LINES_PER_ROW) {
                row = new ArrayList<>();
                rows.add(row);
            }
            row.add(chunk);
        }
        Panache.getEntityManager().unwrap(Session.class).doWork(connection -> {
            PGConnection pg = connection.unwrap(PGConnection.class);
            try (PreparedStatement insert = connection.prepareStatement(
                    "insert into log_chunk (platform_build_id, first_offset, attempt, stages, texts, read_micros) "
                            + "values (?, ?, ?, ?, ?, ?)")) {
                for (List<Chunk> row : rows) {
                    int size = row.stream().mapToInt(Chunk::size).sum();
                    String[] stages = new String[size];
                    String[] texts = new String[size];
                    long[] readMicros = new long[size];
                    int i = 0;
                    for (Chunk chunk : row) {
                        System.arraycopy(chunk.stages(), 0, stages, i, chunk.size());
                        System.arraycopy(chunk.texts(), 0, texts, i, chunk.size());
                        System.arraycopy(chunk.readMicros(), 0, readMicros, i, chunk.size());
                        i += chunk.size();
                    }
                    insert.setObject(1, platformBuildId);
                    insert.setLong(2, row.get(0).firstOffset());
                    insert.setInt(3, row.get(0).attempt());
                    // String[] and long[] (not Object[]) go to the server in binary: no array literal to escape and parse.
                    insert.setArray(4, pg.createArrayOf("text", stages));
                    insert.setArray(5, pg.createArrayOf("text", texts));
                    insert.setArray(6, pg.createArrayOf("bigint", readMicros));
                    insert.addBatch();
                }
                insert.executeBatch();
            }
        });
        for (Chunk chunk : chunks) {
            pb.logLines = Math.max(pb.logLines, chunk.firstOffset() + chunk.size());
            if (chunk.attempt() == pb.attempt) {
                pb.logSequence = Math.max(pb.logSequence, chunk.lastSequence());
            }
            build.logBytes += chunk.bytes();
            build.logTruncated |= chunk.truncates();
        }
        if (pb.state == BuildState.RUNNING && chunks.stream().anyMatch(c -> c.attempt() == pb.attempt)) {
            pb.leaseExpireTime = clock.instant().plus(leaseTimeout);
        }
        return new Stored(pb.attempt, pb.state);
    }

    /** How a platform build's log stands in the database, for {@link LiveLogs} to go on from. */
    public record Position(UUID buildId, String platform, int attempt, BuildState state, long lines, long sequence,
                    long buildBytes, boolean buildTruncated) {
    }

    @Transactional(Transactional.TxType.REQUIRES_NEW)
    public Optional<Position> position(UUID platformBuildId) {
        PlatformBuildEntity pb = PlatformBuildEntity.findById(platformBuildId);
        if (pb == null) {
            return Optional.empty();
        }
        return Optional.of(new Position(pb.build.id, pb.platform, pb.attempt, pb.state, pb.logLines, pb.logSequence,
                pb.build.logBytes, pb.build.logTruncated));
    }

    /** Lines of one platform build from an offset, in order: at most {@code limit} and about 1 MiB of them. */
    public List<BuildLogLine> read(UUID platformBuildId, String platform, long fromOffset, int limit) {
        List<BuildLogLine> out = new ArrayList<>();
        Panache.getEntityManager().unwrap(Session.class).doWork(connection -> {
            // The chunk holding fromOffset (the last starting at or before it), and those after it.
            try (PreparedStatement select = connection.prepareStatement(
                    "select first_offset, attempt, stages, texts, read_micros from log_chunk "
                            + "where platform_build_id = ? and first_offset >= coalesce((select max(first_offset) from log_chunk "
                            + "where platform_build_id = ? and first_offset <= ?), 0) "
                            + "order by first_offset limit ?")) {
                select.setObject(1, platformBuildId);
                select.setObject(2, platformBuildId);
                select.setLong(3, fromOffset);
                select.setInt(4, CHUNKS_PER_READ);
                long bytes = 0;
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next() && out.size() < limit && bytes < MAX_READ_BYTES) {
                        long first = rs.getLong(1);
                        int attempt = rs.getInt(2);
                        String[] stages = (String[]) rs.getArray(3).getArray();
                        String[] texts = (String[]) rs.getArray(4).getArray();
                        Long[] readMicros = (Long[]) rs.getArray(5).getArray();
                        for (int i = (int) Math.max(0, fromOffset - first);
                                i < texts.length && out.size() < limit && bytes < MAX_READ_BYTES; i++) {
                            bytes += texts[i].length() + stages[i].length();
                            out.add(BuildLogLine.newBuilder()
                                    .setPlatform(platform)
                                    .setOffset(first + i)
                                    .setAttempt(attempt)
                                    .setStage(stages[i])
                                    .setText(texts[i])
                                    .setTime(Timestamps.fromMicros(readMicros[i]))
                                    .build());
                        }
                    }
                }
            }
        });
        return out;
    }
}
