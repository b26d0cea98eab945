package dev.buildfarm.controller.logs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The per-build cap counts each line's UTF-8 bytes without encoding it: the count must be the encoder's. */
class Utf8LengthTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "42", "plain ascii line", "é ü ß", "漢字 テスト", "emoji 😀 and 👍🏽", "lone \uD800 high",
            "lone \uDC00 low", "ends high \uD83D", "\uDC00\uD800 reversed", "mixed é漢😀\uD800x"})
    void countsWhatTheEncoderWrites(String text) {
        assertThat(LiveLogs.utf8Length(text)).isEqualTo(text.getBytes(StandardCharsets.UTF_8).length);
    }
}
