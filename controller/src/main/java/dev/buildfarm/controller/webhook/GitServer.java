package dev.buildfarm.controller.webhook;

import io.vertx.core.MultiMap;
import java.util.Optional;

/** Which git server sent a webhook, told by its event header, and how it authenticates. */
public enum GitServer {
    // Gitea also sends X-GitHub-Event and X-Gogs-Event for compatibility, so it is recognised first.
    GITEA("X-Gitea-Event", "X-Gitea-Delivery"),
    GITLAB("X-Gitlab-Event", "X-Gitlab-Event-UUID"),
    GITHUB("X-GitHub-Event", "X-GitHub-Delivery");

    private final String eventHeader;
    private final String deliveryHeader;

    GitServer(String eventHeader, String deliveryHeader) {
        this.eventHeader = eventHeader;
        this.deliveryHeader = deliveryHeader;
    }

    /** One webhook call: who sent it, its event name, its delivery id ("" if the server sends none). */
    public record Delivery(GitServer server, String event, String id) {

        public boolean isPush() {
            return switch (server) {
                case GITHUB, GITEA -> event.equals("push");
                case GITLAB -> event.equals("Push Hook") || event.equals("Tag Push Hook");
            };
        }
    }

    public static Optional<Delivery> detect(MultiMap headers) {
        for (GitServer server : values()) {
            String event = headers.get(server.eventHeader);
            if (event != null) {
                String id = headers.get(server.deliveryHeader);
                return Optional.of(new Delivery(server, event.strip(), id == null ? "" : id.strip()));
            }
        }
        return Optional.empty();
    }

    public boolean authentic(MultiMap headers, byte[] body, String secret) {
        return switch (this) {
            case GITHUB -> WebhookSignatures.github(body, headers.get("X-Hub-Signature-256"), secret);
            case GITEA -> WebhookSignatures.gitea(body, headers.get("X-Gitea-Signature"), secret);
            case GITLAB -> WebhookSignatures.gitlab(headers.get("X-Gitlab-Token"), secret);
        };
    }

    /** The header that carries the proof, for error messages. */
    public String proofHeader() {
        return switch (this) {
            case GITHUB -> "X-Hub-Signature-256";
            case GITEA -> "X-Gitea-Signature";
            case GITLAB -> "X-Gitlab-Token";
        };
    }
}
