package dev.buildfarm.controller.webhook;

import dev.buildfarm.api.v1.Trigger;
import dev.buildfarm.controller.rules.RuleFiring;
import dev.buildfarm.controller.rules.RuleFiring.Outcome;
import dev.buildfarm.controller.rules.RuleFiring.Push;
import dev.buildfarm.controller.rules.RuleStore;
import dev.buildfarm.controller.rules.RuleStore.Source;
import io.quarkus.runtime.configuration.MemorySize;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * POST /webhooks/{repository}: push events from GitHub, GitLab or Gitea, on the controller's HTTP
 * port. Answers 202 with the builds started, 200 when nothing was started (no matching rule, a
 * deleted ref, a redelivery, a non-push event), 400 for a malformed call, 401 when the signature or
 * token is missing or wrong, 404 for an unknown repository, 413 above buildfarm.webhooks.max-body-size.
 */
@ApplicationScoped
public class WebhookRoutes {

    private static final Logger LOG = Logger.getLogger(WebhookRoutes.class);
    public static final String PATH = "/webhooks/";

    @ConfigProperty(name = "buildfarm.webhooks.max-body-size", defaultValue = "5M")
    MemorySize maxBodySize;

    @Inject
    RuleStore rules;

    @Inject
    RuleFiring firing;

    @Inject
    Clock clock;

    record Reply(int status, JsonObject body) {
    }

    void routes(@Observes Router router) {
        router.post(PATH + ":repository")
                .handler(BodyHandler.create(false).setBodyLimit(maxBodySize.asLongValue()))
                .blockingHandler(this::handle, false);
    }

    private void handle(RoutingContext ctx) {
        Reply reply;
        try {
            Buffer body = ctx.body().buffer();
            reply = receive(ctx.pathParam("repository"), ctx.request().headers(), body == null ? new byte[0] : body.getBytes());
        } catch (RuntimeException e) {
            // Not the caller's fault: the git server will retry the delivery.
            LOG.error("webhook failed", e);
            reply = error(503, "the controller could not handle this push now; retry later");
        }
        ctx.response().setStatusCode(reply.status()).putHeader("Content-Type", "application/json")
                .end(reply.body().encode());
    }

    Reply receive(String repositoryId, MultiMap headers, byte[] body) {
        Optional<Source> found = rules.source(repositoryId);
        if (found.isEmpty()) {
            return error(404, "repositories/" + repositoryId + " does not exist");
        }
        Source source = found.get();
        Optional<GitServer.Delivery> detected = GitServer.detect(headers);
        if (detected.isEmpty()) {
            return error(400, "not a GitHub, GitLab or Gitea webhook: no X-GitHub-Event, X-Gitlab-Event or X-Gitea-Event header");
        }
        GitServer.Delivery delivery = detected.get();
        if (source.webhookSecret().isEmpty()) {
            return error(401, source.name() + " has no webhook secret; set source.webhook_secret to receive webhooks");
        }
        if (!delivery.server().authentic(headers, body, source.webhookSecret().get())) {
            LOG.warnf("webhook for %s refused: %s missing or wrong%s", source.name(), delivery.server().proofHeader(),
                    delivery.id().isEmpty() ? "" : " (delivery " + delivery.id() + ")");
            return error(401, delivery.server().proofHeader() + " is missing or does not match the repository's webhook secret");
        }
        if (!delivery.isPush()) {
            return nothing(source, "'" + delivery.event() + "' events build nothing; only pushes do");
        }
        PushPayload payload;
        try {
            String contentType = headers.get("Content-Type");
            boolean form = contentType != null && contentType.toLowerCase().startsWith("application/x-www-form-urlencoded");
            payload = PushPayload.parse(form ? PushPayload.fromForm(body) : body);
        } catch (PushPayload.MalformedException e) {
            return error(400, "malformed push event: " + e.getMessage());
        }
        if (payload.deleted()) {
            return nothing(source, payload.ref() + " was deleted; a deleted ref builds nothing");
        }
        if (!source.autoBuild()) {
            return nothing(source, "automatic builds are off for " + source.name());
        }
        Push push = new Push(payload.ref(), payload.commit(), abbreviate(delivery.id()),
                payload.pushedAt().orElseGet(clock::instant));
        List<Outcome> outcomes = firing.fire(source, push, Trigger.Kind.PUSH);
        JsonObject answer = new JsonObject().put("repository", source.name()).put("ref", push.ref()).put("commit", push.commit());
        JsonArray started = new JsonArray();
        JsonArray existing = new JsonArray();
        JsonArray refused = new JsonArray();
        for (Outcome outcome : outcomes) {
            JsonObject item = new JsonObject().put("rule", outcome.rule());
            switch (outcome.result()) {
                case STARTED -> started.add(item.put("build", outcome.build()).put("tags", new JsonArray(outcome.tags())));
                case EXISTING -> existing.add(item.put("build", outcome.build()).put("tags", new JsonArray(outcome.tags())));
                case REFUSED -> refused.add(item.put("build", outcome.build()).put("reason", outcome.reason()));
            }
        }
        answer.put("builds", started).put("existing", existing).put("refused", refused);
        if (outcomes.isEmpty()) {
            answer.put("message", "no rule of " + source.name() + " matches " + push.ref());
        }
        return new Reply(started.isEmpty() ? 200 : 202, answer);
    }

    private static Reply nothing(Source source, String message) {
        return new Reply(200, new JsonObject().put("repository", source.name()).put("builds", new JsonArray())
                .put("message", message));
    }

    private static Reply error(int status, String message) {
        return new Reply(status, new JsonObject().put("error", message));
    }

    private static String abbreviate(String id) {
        return id.length() <= 255 ? id : id.substring(0, 255);
    }
}
