package dev.buildfarm.controller.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PushPayloadTest {

    private static final String A = "a".repeat(40);
    private static final String B = "b".repeat(40);
    private static final String ZEROS = "0".repeat(40);

    private static PushPayload parse(String json) throws Exception {
        return PushPayload.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void github() throws Exception {
        PushPayload push = parse("{\"ref\":\"refs/heads/release-v1\",\"before\":\"" + ZEROS + "\",\"after\":\"" + A
                + "\",\"deleted\":false,\"head_commit\":{\"id\":\"" + A + "\"},\"repository\":{\"pushed_at\":1602749580}}");
        assertThat(push.ref()).isEqualTo("refs/heads/release-v1");
        assertThat(push.deleted()).isFalse();
        assertThat(push.commit()).isEqualTo(A);
        assertThat(push.pushedAt()).contains(Instant.parse("2020-10-15T08:13:00Z"));
    }

    @Test
    void annotatedTagBuildsTheCommitNotTheTagObject() throws Exception {
        // GitLab: 'after' is the tag object, checkout_sha the commit.
        assertThat(parse("{\"object_kind\":\"tag_push\",\"ref\":\"refs/tags/v1\",\"after\":\"" + B + "\",\"checkout_sha\":\"" + A + "\"}")
                .commit()).isEqualTo(A);
        // GitHub and Gitea: head_commit.
        assertThat(parse("{\"ref\":\"refs/tags/v1\",\"after\":\"" + B + "\",\"head_commit\":{\"id\":\"" + A + "\"}}").commit())
                .isEqualTo(A);
    }

    @Test
    void deletedRefs() throws Exception {
        assertThat(parse("{\"ref\":\"refs/heads/x\",\"after\":\"" + ZEROS + "\",\"deleted\":true,\"head_commit\":null}").deleted()).isTrue();
        // GitLab and Gitea say it with zeros only.
        assertThat(parse("{\"ref\":\"refs/tags/x\",\"after\":\"" + ZEROS + "\",\"checkout_sha\":null}").deleted()).isTrue();
    }

    @Test
    void formEncodedGithubPayload() throws Exception {
        String json = "{\"ref\":\"refs/heads/main\",\"after\":\"" + A + "\"}";
        byte[] form = ("payload=" + java.net.URLEncoder.encode(json, StandardCharsets.UTF_8)).getBytes(StandardCharsets.US_ASCII);
        assertThat(PushPayload.parse(PushPayload.fromForm(form)).commit()).isEqualTo(A);
        assertThatThrownBy(() -> PushPayload.fromForm("other=1".getBytes(StandardCharsets.US_ASCII)))
                .hasMessageContaining("'payload' field");
    }

    @Test
    void malformed() {
        assertThatThrownBy(() -> parse("{not json")).isInstanceOf(PushPayload.MalformedException.class).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> parse("[1]")).hasMessageContaining("not a JSON object");
        assertThatThrownBy(() -> parse("{\"after\":\"" + A + "\"}")).hasMessageContaining("'ref'");
        assertThatThrownBy(() -> parse("{\"ref\":\"main\",\"after\":\"" + A + "\"}")).hasMessageContaining("'ref'");
        assertThatThrownBy(() -> parse("{\"ref\":\"refs/heads/x\",\"after\":\"xyz\"}")).hasMessageContaining("not a 40-character");
        assertThatThrownBy(() -> parse("")).isInstanceOf(PushPayload.MalformedException.class);
    }
}
