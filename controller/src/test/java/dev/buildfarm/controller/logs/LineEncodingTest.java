package dev.buildfarm.controller.logs;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Timestamp;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.api.v1.LogChunk;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Lines written field by field are byte for byte what protobuf makes of the same BuildLogLine. */
class LineEncodingTest {

    private static ByteString encode(String platform, long offset, int attempt, String stage, String text, long micros) {
        ByteString p = ByteString.copyFromUtf8(platform);
        ByteString s = ByteString.copyFromUtf8(stage);
        byte[] bytes = new byte[LineEncoding.size(p, offset, attempt, s, text, micros)];
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        LineEncoding.write(out, p, offset, attempt, s, text, micros);
        assertThat(out.spaceLeft()).isZero();
        return ByteString.copyFrom(bytes);
    }

    private static BuildLogLine message(String platform, long offset, int attempt, String stage, String text, long micros) {
        return BuildLogLine.newBuilder().setPlatform(platform).setOffset(offset).setAttempt(attempt).setStage(stage)
                .setText(text).setTime(Timestamp.newBuilder().setSeconds(Math.floorDiv(micros, 1_000_000L))
                        .setNanos((int) Math.floorMod(micros, 1_000_000L) * 1_000))
                .build();
    }

    @Test
    void sameBytesAsTheMessage() {
        Object[][] cases = {
                {"linux/amd64", 0L, 1, "Step 2/2 : RUN seq 1 100000", "1", 1_795_833_540_831_245L},
                {"linux/arm/v7", 123_456_789_012L, 3, "", "", 0L},
                {"linux/arm64", 1L, 0, "checkout", "héllo wörld ✓ 🚀", 1_000_000L},
                {"linux/amd64", 99L, 2, "Step 1/1 : RUN x", "x".repeat(70_000), -1L},
                {"linux/amd64", 5L, 1, "s", "a\tb\u0001c", 999_999L},
                // An unpaired surrogate goes out as '?', as protobuf writes it.
                {"linux/amd64", 6L, 1, "s", "bad \uD800 surrogate", 5L},
        };
        for (Object[] c : cases) {
            BuildLogLine expected = message((String) c[0], (Long) c[1], (Integer) c[2], (String) c[3], (String) c[4], (Long) c[5]);
            ByteString encoded = encode((String) c[0], (Long) c[1], (Integer) c[2], (String) c[3], (String) c[4], (Long) c[5]);
            assertThat(encoded).isEqualTo(expected.toByteString());
        }
    }

    @Test
    void aChunkOfEncodedLinesReadsAsOrdinaryLines() throws Exception {
        List<BuildLogLine> lines = List.of(
                message("linux/amd64", 7, 1, "Step 2/2 : RUN seq", "first", 1_700_000_000_000_001L),
                message("linux/amd64", 8, 1, "Step 2/2 : RUN seq", "second", 1_700_000_000_000_002L));
        LogChunk chunk = LineEncoding.chunk(List.of(
                encode("linux/amd64", 7, 1, "Step 2/2 : RUN seq", "first", 1_700_000_000_000_001L),
                encode("linux/amd64", 8, 1, "Step 2/2 : RUN seq", "second", 1_700_000_000_000_002L)));
        LogChunk received = LogChunk.parseFrom(chunk.toByteArray());
        assertThat(received.getLinesList()).isEqualTo(lines);
        assertThat(received.getUnknownFields().asMap()).isEmpty();
        assertThat(chunk.toByteString()).isEqualTo(LogChunk.newBuilder().addAllLines(lines).build().toByteString());
    }
}
