package dev.buildfarm.controller.logs;

import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import io.quarkus.hibernate.orm.panache.Panache;
import dev.buildfarm.controller.metrics.FarmMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.hibernate.Session;

/**
 * Build output in PostgreSQL. Each platform's lines get offsets from 0 that run across attempts, in
 * the order the agent numbered them; appends run under the build's row lock, so a reader that
 * follows offsets never skips a line. A per-build byte cap ends the log with a visible marker.
 */
@ApplicationScoped
public class LogStore {

    static final String TRUNCATED = "[buildfarm] log truncated: this build's log reached %d bytes; later lines are dropped";

    @ConfigProperty(name = "buildfarm.logs.max-bytes-per-build")
    long maxBytesPerBuild;

    @Inject
    FarmMetrics metrics;

    /** Stores lines not seen before; call with the build row locked and the attempt checked. */
    public void append(PlatformBuildEntity pb, List<LogLine> lines) {
        BuildEntity build = pb.build;
        List<Object[]> rows = new ArrayList<>();
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
            Instant read = line.hasTime()
                    ? Instant.ofEpochSecond(line.getTime().getSeconds(), line.getTime().getNanos()) : Instant.now();
            if (build.logBytes + size > maxBytesPerBuild) {
                build.logTruncated = true;
                text = String.format(TRUNCATED, maxBytesPerBuild);
                rows.add(new Object[] {pb.logLines++, line.getSequence(), "", text, read});
                break;
            }
            build.logBytes += size;
            rows.add(new Object[] {pb.logLines++, line.getSequence(), line.getStage(), text, read});
        }
        if (rows.isEmpty()) {
            return;
        }
        metrics.logBytes(pb.platform, rows.stream().mapToLong(r -> ((String) r[3]).length() + 1L).sum());
        int attempt = pb.attempt;
        UUID id = pb.id;
        Panache.getEntityManager().unwrap(Session.class).doWork(connection -> {
            try (PreparedStatement insert = connection.prepareStatement(
                    "insert into log_line (platform_build_id, attempt, sequence, line_offset, stage, text, read_time) "
                            + "values (?, ?, ?, ?, ?, ?, ?)")) {
                for (Object[] row : rows) {
                    insert.setObject(1, id);
                    insert.setInt(2, attempt);
                    insert.setLong(3, (Long) row[1]);
                    insert.setLong(4, (Long) row[0]);
                    insert.setString(5, truncate((String) row[2], 255));
                    insert.setString(6, (String) row[3]);
                    insert.setTimestamp(7, Timestamp.from((Instant) row[4]));
                    insert.addBatch();
                }
                insert.executeBatch();
            }
        });
    }

    /** Lines of one platform build from an offset, in order. */
    public List<BuildLogLine> read(UUID platformBuildId, String platform, long fromOffset, int limit) {
        List<BuildLogLine> out = new ArrayList<>();
        Panache.getEntityManager().unwrap(Session.class).doWork(connection -> {
            try (PreparedStatement select = connection.prepareStatement(
                    "select line_offset, attempt, stage, text, read_time from log_line "
                            + "where platform_build_id = ? and line_offset >= ? order by line_offset limit ?")) {
                select.setObject(1, platformBuildId);
                select.setLong(2, fromOffset);
                select.setInt(3, limit);
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        BuildLogLine.Builder line = BuildLogLine.newBuilder()
                                .setPlatform(platform)
                                .setOffset(rs.getLong(1))
                                .setAttempt(rs.getInt(2))
                                .setStage(rs.getString(3))
                                .setText(rs.getString(4));
                        Timestamp time = rs.getTimestamp(5);
                        if (time != null) {
                            line.setTime(BuildMapper.timestamp(time.toInstant()));
                        }
                        out.add(line.build());
                    }
                }
            }
        });
        return out;
    }

    private static String truncate(String value, int max) {
        return value.length() <= max ? value : value.substring(0, max);
    }
}
