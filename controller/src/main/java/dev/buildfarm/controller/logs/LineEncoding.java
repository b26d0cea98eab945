package dev.buildfarm.controller.logs;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnknownFieldSet;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogChunk;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * A {@link BuildLogLine} in its wire form, written field by field: a live line is encoded once, when
 * it is accepted, and every follower sends the same bytes. The bytes are exactly what
 * {@code BuildLogLine.toByteString()} gives for the same values (fields in number order, defaults
 * left out); LineEncodingTest checks it.
 */
final class LineEncoding {

    private LineEncoding() {
    }

    static long seconds(long micros) {
        return Math.floorDiv(micros, 1_000_000L);
    }

    static int nanos(long micros) {
        return (int) Math.floorMod(micros, 1_000_000L) * 1_000;
    }

    private static int timeSize(long micros) {
        long seconds = seconds(micros);
        int nanos = nanos(micros);
        return (seconds != 0 ? CodedOutputStream.computeInt64Size(1, seconds) : 0)
                + (nanos != 0 ? CodedOutputStream.computeInt32Size(2, nanos) : 0);
    }

    /** The encoded size of one line. */
    static int size(ByteString platform, long offset, int attempt, ByteString stage, String text, long micros) {
        int time = timeSize(micros);
        return (platform.isEmpty() ? 0 : CodedOutputStream.computeBytesSize(BuildLogLine.PLATFORM_FIELD_NUMBER, platform))
                + (offset != 0 ? CodedOutputStream.computeInt64Size(BuildLogLine.OFFSET_FIELD_NUMBER, offset) : 0)
                + (attempt != 0 ? CodedOutputStream.computeInt32Size(BuildLogLine.ATTEMPT_FIELD_NUMBER, attempt) : 0)
                + (stage.isEmpty() ? 0 : CodedOutputStream.computeBytesSize(BuildLogLine.STAGE_FIELD_NUMBER, stage))
                + (text.isEmpty() ? 0 : CodedOutputStream.computeStringSize(BuildLogLine.TEXT_FIELD_NUMBER, text))
                + CodedOutputStream.computeTagSize(BuildLogLine.TIME_FIELD_NUMBER) + CodedOutputStream.computeUInt32SizeNoTag(time) + time;
    }

    /** Writes one line, {@link #size} bytes. */
    static void write(CodedOutputStream out, ByteString platform, long offset, int attempt, ByteString stage, String text,
                      long micros) {
        try {
            if (!platform.isEmpty()) {
                out.writeBytes(BuildLogLine.PLATFORM_FIELD_NUMBER, platform);
            }
            if (offset != 0) {
                out.writeInt64(BuildLogLine.OFFSET_FIELD_NUMBER, offset);
            }
            if (attempt != 0) {
                out.writeInt32(BuildLogLine.ATTEMPT_FIELD_NUMBER, attempt);
            }
            if (!stage.isEmpty()) {
                out.writeBytes(BuildLogLine.STAGE_FIELD_NUMBER, stage);
            }
            if (!text.isEmpty()) {
                out.writeString(BuildLogLine.TEXT_FIELD_NUMBER, text);
            }
            out.writeTag(BuildLogLine.TIME_FIELD_NUMBER, 2); // length-delimited
            out.writeUInt32NoTag(timeSize(micros));
            long seconds = seconds(micros);
            int nanos = nanos(micros);
            if (seconds != 0) {
                out.writeInt64(1, seconds);
            }
            if (nanos != 0) {
                out.writeInt32(2, nanos);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array the exact size: cannot happen
        }
    }

    /**
     * A LogChunk of encoded lines. They travel as the chunk's field 1 (its {@code lines}), held as
     * fields the chunk's class leaves to the wire as they are: a watcher reads ordinary lines.
     */
    static LogChunk chunk(List<ByteString> lines) {
        UnknownFieldSet.Field.Builder field = UnknownFieldSet.Field.newBuilder();
        for (ByteString line : lines) {
            field.addLengthDelimited(line);
        }
        return LogChunk.newBuilder()
                .setUnknownFields(UnknownFieldSet.newBuilder().addField(LogChunk.LINES_FIELD_NUMBER, field.build()).build())
                .build();
    }
}
