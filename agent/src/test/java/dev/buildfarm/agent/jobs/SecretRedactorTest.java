package dev.buildfarm.agent.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.agent.docker.LineSplitter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SecretRedactorTest {

    private static final String SECRET = "s3cr3t/value+with=odd chars";
    private final SecretRedactor redactor = SecretRedactor.of(Set.of(SECRET));

    @Test
    void aValueSplitAcrossTwoChunksIsRedactedOnceTheLineIsWhole() {
        List<String> shipped = new ArrayList<>();
        // As JobRunner ships them: docker-java chunks are split into lines, then each line is redacted.
        LineSplitter lines = new LineSplitter(line -> shipped.add(redactor.redact(line)));
        String output = "Step 3/4 : RUN echo $TOKEN\n token is " + SECRET + " here\n ---> 1234\n";
        int cut = output.indexOf(SECRET) + 5;
        lines.accept(output.substring(0, cut));
        lines.accept(output.substring(cut));
        lines.flush();

        assertThat(shipped).containsExactly("Step 3/4 : RUN echo $TOKEN", " token is **** here", " ---> 1234");
    }

    @Test
    void base64AndUrlEncodedFormsAreRedactedToo() {
        byte[] bytes = SECRET.getBytes(StandardCharsets.UTF_8);
        for (String form : List.of(
                Base64.getEncoder().encodeToString(bytes),
                Base64.getUrlEncoder().withoutPadding().encodeToString(bytes),
                URLEncoder.encode(SECRET, StandardCharsets.UTF_8),
                URLEncoder.encode(SECRET, StandardCharsets.UTF_8).replace("+", "%20"))) {
            assertThat(redactor.redact("auth: " + form + ";")).isEqualTo("auth: ****;");
        }
    }

    @Test
    void everyOccurrenceOfEveryValueGoesAndOtherTextStays() {
        SecretRedactor two = SecretRedactor.of(List.of("alpha-123", "beta-456", ""));
        assertThat(two.redact("alpha-123 and beta-456, again alpha-123")).isEqualTo("**** and ****, again ****");
        assertThat(two.redact("nothing secret here")).isEqualTo("nothing secret here");
        assertThat(SecretRedactor.none().redact("alpha-123")).isEqualTo("alpha-123");
    }

    @Test
    void regexCharactersInAValueAreTakenLiterally() {
        SecretRedactor odd = SecretRedactor.of(List.of("a.b*c$1"));
        assertThat(odd.redact("x a.b*c$1 y aXbbc")).isEqualTo("x **** y aXbbc");
    }
}
