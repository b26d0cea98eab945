package dev.buildfarm.controller.dashboard;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.util.JsonFormat;
import dev.buildfarm.api.v1.BuildLogLine;
import dev.buildfarm.common.Platform;
import dev.buildfarm.controller.agent.AgentJobs;
import dev.buildfarm.controller.agent.AgentRegistry;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.BuildStore;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import dev.buildfarm.controller.events.EventHub;
import dev.buildfarm.controller.logs.BuildSignals;
import dev.buildfarm.controller.logs.LogStore;
import dev.buildfarm.controller.metrics.FarmMetrics;
import dev.buildfarm.controller.tenancy.Caller;
import dev.buildfarm.controller.tenancy.TokenRegistry;
import dev.buildfarm.api.v1.Token;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.scheduler.Scheduled;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The JSON and server-sent-events endpoints behind the dashboard (static files under
 * META-INF/resources/dashboard): builds, one build, its log by platform and offset, cancel, agents,
 * queue depth per platform over the last half hour, and every build and agent event as it happens.
 */
@ApplicationScoped
public class DashboardRoutes {

    static final String API = "/dashboard/api/";
    private static final int QUEUE_SAMPLES = 360; // 30 minutes at one sample per 5 s
    private static final int LOG_BATCH = 2_000;

    @Inject
    BuildStore store;

    @Inject
    AgentJobs jobs;

    @Inject
    BuildSignals signals;

    @Inject
    AgentRegistry agents;

    @Inject
    LogStore logs;

    @Inject
    EventHub events;

    @Inject
    FarmMetrics metrics;

    @Inject
    TokenRegistry tokens;

    @ConfigProperty(name = "buildfarm.auth.enabled")
    boolean authEnabled;

    /** The cookie the page keeps its token in. */
    static final String TOKEN_COOKIE = "buildfarm_token";
    private static final String CALLER = "buildfarm.caller";

    private record QueueSample(Instant time, Map<String, Long> queued) {
    }

    private final Deque<QueueSample> queueHistory = new ArrayDeque<>();

    void routes(@Observes Router router) {
        // A regex route matches the whole path: "/dashboard" only, not "/dashboard/" (the page itself).
        router.getWithRegex("/dashboard").handler(ctx -> ctx.redirect("/dashboard/"));
        router.route(API + "*").handler(this::authenticate);
        router.get(API + "builds").blockingHandler(ctx -> json(ctx, () -> builds(caller(ctx))), false);
        router.get(API + "builds/:id").blockingHandler(ctx -> json(ctx, () -> build(caller(ctx), ctx.pathParam("id"))), false);
        router.get(API + "builds/:id/logs").blockingHandler(ctx -> json(ctx, () -> logs(caller(ctx), ctx.pathParam("id"),
                ctx.queryParam("platform").stream().findFirst().orElse(""),
                ctx.queryParam("offset").stream().findFirst().orElse("0"))), false);
        router.post(API + "builds/:id/cancel").blockingHandler(ctx -> json(ctx, () -> cancel(caller(ctx), ctx.pathParam("id"))), false);
        router.get(API + "agents").blockingHandler(ctx -> json(ctx, () -> new JsonObject(print(agents.list()))), false);
        router.get(API + "queue").handler(ctx -> json(ctx, this::queue));
        router.get(API + "events").handler(this::events);
    }

    /**
     * The same tokens as the gRPC API, from an {@code Authorization: Bearer} header or the
     * {@value #TOKEN_COOKIE} cookie (what the page's event stream can carry): 401 without a valid one.
     */
    private void authenticate(RoutingContext ctx) {
        if (!authEnabled) {
            ctx.put(CALLER, Caller.UNRESTRICTED);
            ctx.next();
            return;
        }
        String header = ctx.request().getHeader("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).trim()
                : Optional.ofNullable(ctx.request().getCookie(TOKEN_COOKIE)).map(c -> c.getValue()).orElse("");
        try {
            Caller caller = tokens.verify(token);
            if (caller.kind() == Token.Kind.AGENT) {
                throw new TokenRegistry.Refused("an agent token may only call the agent protocol");
            }
            ctx.put(CALLER, caller);
            ctx.next();
        } catch (TokenRegistry.Refused e) {
            ctx.response().setStatusCode(401).putHeader("Content-Type", "application/json")
                    .end(new JsonObject().put("error", "an API token is required: " + e.getMessage()).encode());
        }
    }

    private static Caller caller(RoutingContext ctx) {
        return ctx.get(CALLER);
    }

    private JsonObject builds(Caller caller) {
        JsonArray list = new JsonArray();
        QuarkusTransaction.requiringNew().run(() -> store
                .listNewestFirst(new BuildStore.Filter(null, null, null, null, null, caller.onlyNamespace().orElse(null)),
                        Optional.empty(), 50)
                .forEach(b -> list.add(new JsonObject(print(BuildMapper.toProto(b))))));
        return new JsonObject().put("builds", list);
    }

    private JsonObject build(Caller caller, String id) {
        return QuarkusTransaction.requiringNew().call(() -> new JsonObject(print(BuildMapper.toProto(find(caller, id, Token.Role.VIEWER)))));
    }

    private JsonObject logs(Caller caller, String id, String platform, String offsetParam) {
        long offset;
        String wanted;
        try {
            offset = Long.parseLong(offsetParam);
            wanted = Platform.parse(platform).toString();
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("platform/offset", "a supported platform and a line offset are required: " + e.getMessage());
        }
        return QuarkusTransaction.requiringNew().call(() -> {
            BuildEntity build = find(caller, id, Token.Role.VIEWER);
            PlatformBuildEntity pb = build.platformBuilds.stream().filter(p -> p.platform.equals(wanted)).findFirst()
                    .orElseThrow(() -> ApiError.invalid("platform", "'" + wanted + "' is not a platform of " + build.name()));
            List<BuildLogLine> lines = logs.read(pb.id, pb.platform, Math.max(0, offset), LOG_BATCH);
            JsonArray out = new JsonArray();
            lines.forEach(l -> out.add(new JsonObject().put("offset", l.getOffset()).put("stage", l.getStage()).put("text", l.getText())));
            return new JsonObject().put("lines", out).put("final", pb.state.isFinal());
        });
    }

    private JsonObject cancel(Caller caller, String id) {
        UUID buildId = find(caller, id, Token.Role.SUBMITTER).id;
        jobs.cancel(buildId);
        signals.signal(buildId);
        return build(caller, id);
    }

    private synchronized JsonObject queue() {
        JsonArray samples = new JsonArray();
        for (QueueSample s : queueHistory) {
            JsonObject queued = new JsonObject();
            Platform.SUPPORTED.forEach(p -> queued.put(p.toString(), s.queued().getOrDefault(p.toString(), 0L)));
            samples.add(new JsonObject().put("time", s.time().toString()).put("queued", queued));
        }
        return new JsonObject().put("samples", samples);
    }

    @Scheduled(every = "5s", delayed = "1s")
    synchronized void sampleQueue() {
        queueHistory.addLast(new QueueSample(Instant.now(), Map.copyOf(metrics.queuedByPlatform())));
        while (queueHistory.size() > QUEUE_SAMPLES) {
            queueHistory.removeFirst();
        }
    }

    /** Server-sent events: each BuildEvent as protobuf JSON; a reader that falls behind is disconnected. */
    private void events(RoutingContext ctx) {
        Caller caller = caller(ctx);
        HttpServerResponse response = ctx.response();
        response.setChunked(true)
                .putHeader("Content-Type", "text/event-stream")
                .putHeader("Cache-Control", "no-cache");
        response.write(": connected\n\n");
        Runnable[] stop = new Runnable[1];
        stop[0] = events.listen(event -> {
            if (response.closed() || response.writeQueueFull()) {
                stop[0].run();
                if (!response.closed()) {
                    response.close(); // the browser's EventSource reconnects and reloads
                }
                return;
            }
            if (!event.hasBuild() || caller.canRead(event.getBuild().getNamespace())) {
                response.write("data: " + print(event).replace("\n", "") + "\n\n");
            }
        });
        response.closeHandler(v -> stop[0].run());
    }

    private BuildEntity find(Caller caller, String id, Token.Role least) {
        UUID buildId = parse(id);
        BuildEntity build = QuarkusTransaction.joiningExisting().call(() -> BuildEntity.findById(buildId));
        if (build == null) {
            throw ApiError.notFound("builds/" + id + " does not exist");
        }
        caller.require(build.namespace, least);
        return build;
    }

    private static UUID parse(String id) {
        return BuildStore.parseName("builds/" + id)
                .orElseThrow(() -> ApiError.invalid("id", "'" + id + "' is not a build id"));
    }

    private static void json(RoutingContext ctx, Supplier<JsonObject> answer) {
        int status = 200;
        JsonObject body;
        try {
            body = answer.get();
        } catch (ApiError e) {
            status = switch (e.code()) {
                case NOT_FOUND -> 404;
                case FAILED_PRECONDITION -> 409;
                case PERMISSION_DENIED -> 403;
                default -> 400;
            };
            body = new JsonObject().put("error", e.getMessage());
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body.encode());
    }

    private static String print(MessageOrBuilder message) {
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print(message);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
