package dev.buildfarm.controller.logs;

import com.google.protobuf.util.Timestamps;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import dev.buildfarm.controller.metrics.FarmMetrics;
import io.quarkus.hibernate.orm.panache.Panache;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.Session;

/**
 * Build output in PostgreSQL, one row (a chunk) per batch an agent sends. Each platform's lines get
 * offsets from 0 that run across attempts, in the order the agent numbered them; appends run under
 * the build's row lock, so a reader that follows offsets never skips a line. A per-build byte cap
 * ends the log with a visible marker.
 */
@ApplicationScoped
public class LogStore {

    static final String TRUNCATED = "[buildfarm] log truncated: this build's log reached %d bytes; later lines are dropped";
    /** Chunks one read looks at; a chunk holds one agent batch (at most a few thousand lines). */
    private static final int CHUNKS_PER_READ = 16;
    /** Bytes of text one read returns at most (past its first line), keeping a LogChunk message small. */
    private static final long MAX_READ_BYTES = 1024 * 1024;
    private static final int MAX_STAGE_LENGTH = 255;

    @ConfigProperty(name = "buildfarm.logs.max-bytes-per-build")
    long maxBytesPerBuild;

    @Inject
    FarmMetrics metrics;

    /** Stores lines not seen before as one chunk; call with the build row locked and the attempt checked. */
    public void append(PlatformBuildEntity pb, List<LogLine> lines) {
        BuildEntity build = pb.build;
        List<String> stages = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        List<Long> readMicros = new ArrayList<>();
        long bytes = 0;
        for (LogLine line : lines) {
            if (build.logTruncated) {
                break;
            }
            if (line.getSequence() <= pb.logSequence) {
                continue; // resent after a reconnect: stored already
            }
            pb.logSequence = line.getSequence();
            String text = line.getText().replace("\0", "");
            long size = text.getBytes(StandardCharsets.UTF_8).length + 1;
            long read = line.hasTime()
                    ? line.getTime().getSeconds() * 1_000_000 + line.getTime().getNanos() / 1_000
                    : ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
            String stage = line.getStage();
            if (build.logBytes + size > maxBytesPerBuild) {
                build.logTruncated = true;
                text = String.format(TRUNCATED, maxBytesPerBuild);
                size = text.length() + 1;
                stage = "";
            }
            build.logBytes += size;
            bytes += size;
            stages.add(stage.length() <= MAX_STAGE_LENGTH ? stage : stage.substring(0, MAX_STAGE_LENGTH));
            texts.add(text);
            readMicros.add(read);
        }
        if (texts.isEmpty()) {
            return;
        }
        long firstOffset = pb.logLines;
        pb.logLines += texts.size();
        metrics.logBytes(pb.platform, bytes);
        int attempt = pb.attempt;
        UUID id = pb.id;
        Panache.getEntityManager().unwrap(Session.class).doWork(connection -> {
            try (PreparedStatement insert = connection.prepareStatement(
                    "insert into log_chunk (platform_build_id, first_offset, attempt, stages, texts, read_micros) "
                            + "values (?, ?, ?, ?, ?, ?)")) {
                insert.setObject(1, id);
                insert.setLong(2, firstOffset);
                insert.setInt(3, attempt);
                insert.setArray(4, connection.createArrayOf("text", stages.toArray()));
                insert.setArray(5, connection.createArrayOf("text", texts.toArray()));
                insert.setArray(6, connection.createArrayOf("bigint", readMicros.toArray()));
                insert.executeUpdate();
            }
        });
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
