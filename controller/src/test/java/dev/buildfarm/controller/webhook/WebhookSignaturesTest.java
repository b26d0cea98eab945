package dev.buildfarm.controller.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.MultiMap;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class WebhookSignaturesTest {

    // GitHub's documented test vector for X-Hub-Signature-256.
    private static final String SECRET = "It's a Secret to Everybody";
    private static final byte[] BODY = "Hello, World!".getBytes(StandardCharsets.UTF_8);
    private static final String HEX = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

    @Test
    void githubSignatureIsPrefixedHmacSha256OfTheBody() {
        assertThat(WebhookSignatures.githubHeader(BODY, SECRET)).isEqualTo("sha256=" + HEX);
        assertThat(WebhookSignatures.github(BODY, "sha256=" + HEX, SECRET)).isTrue();
        assertThat(WebhookSignatures.github(BODY, "sha256=" + HEX.toUpperCase(), SECRET)).isTrue();
    }

    @Test
    void githubRefusesTamperingWrongSecretAndMalformedHeaders() {
        assertThat(WebhookSignatures.github("Hello, World?".getBytes(StandardCharsets.UTF_8), "sha256=" + HEX, SECRET)).isFalse();
        assertThat(WebhookSignatures.github(BODY, "sha256=" + HEX, "another secret")).isFalse();
        assertThat(WebhookSignatures.github(BODY, HEX, SECRET)).as("prefix missing").isFalse();
        assertThat(WebhookSignatures.github(BODY, "sha1=" + HEX, SECRET)).isFalse();
        assertThat(WebhookSignatures.github(BODY, "sha256=zz", SECRET)).isFalse();
        assertThat(WebhookSignatures.github(BODY, "sha256=" + HEX.substring(2), SECRET)).isFalse();
        assertThat(WebhookSignatures.github(BODY, null, SECRET)).isFalse();
    }

    @Test
    void giteaSignatureIsBareHexHmacSha256() {
        assertThat(WebhookSignatures.giteaHeader(BODY, SECRET)).isEqualTo(HEX);
        assertThat(WebhookSignatures.gitea(BODY, HEX, SECRET)).isTrue();
        assertThat(WebhookSignatures.gitea(BODY, "sha256=" + HEX, SECRET)).isFalse();
        assertThat(WebhookSignatures.gitea(new byte[0], HEX, SECRET)).isFalse();
        assertThat(WebhookSignatures.gitea(BODY, null, SECRET)).isFalse();
    }

    @Test
    void gitlabTokenIsTheSecretItself() {
        assertThat(WebhookSignatures.gitlab(SECRET, SECRET)).isTrue();
        assertThat(WebhookSignatures.gitlab(SECRET + " ", SECRET)).isFalse();
        assertThat(WebhookSignatures.gitlab("", SECRET)).isFalse();
        assertThat(WebhookSignatures.gitlab(null, SECRET)).isFalse();
    }

    @Test
    void serverIsToldByItsEventHeaderGiteaFirst() {
        MultiMap gitea = MultiMap.caseInsensitiveMultiMap().add("X-GitHub-Event", "push").add("X-Gitea-Event", "push")
                .add("X-Gitea-Delivery", "d-1").add("X-Gitea-Signature", HEX).add("X-Hub-Signature-256", "sha256=bad");
        GitServer.Delivery delivery = GitServer.detect(gitea).orElseThrow();
        assertThat(delivery).isEqualTo(new GitServer.Delivery(GitServer.GITEA, "push", "d-1"));
        assertThat(delivery.server().authentic(gitea, BODY, SECRET)).isTrue();

        MultiMap gitlab = MultiMap.caseInsensitiveMultiMap().add("x-gitlab-event", "Tag Push Hook").add("X-Gitlab-Token", SECRET);
        GitServer.Delivery tagPush = GitServer.detect(gitlab).orElseThrow();
        assertThat(tagPush.server()).isEqualTo(GitServer.GITLAB);
        assertThat(tagPush.isPush()).isTrue();
        assertThat(tagPush.id()).isEmpty();
        assertThat(GitServer.GITLAB.authentic(gitlab, BODY, "wrong secret")).isFalse();

        MultiMap github = MultiMap.caseInsensitiveMultiMap().add("X-GitHub-Event", "ping").add("X-GitHub-Delivery", "g-1");
        assertThat(GitServer.detect(github).orElseThrow().isPush()).isFalse();
        assertThat(GitServer.GITHUB.authentic(github, BODY, SECRET)).as("no signature").isFalse();
        assertThat(GitServer.detect(MultiMap.caseInsensitiveMultiMap())).isEmpty();
    }
}
