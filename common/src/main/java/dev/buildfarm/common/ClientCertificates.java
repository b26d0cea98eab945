package dev.buildfarm.common;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * Mutual TLS, enforced on each request. Quarkus fixes {@code quarkus.http.ssl.client-auth} when the
 * application is built, so the services are built to request a client certificate on their TLS port
 * (a certificate that is presented must verify against the trust store, or the handshake fails) and
 * {@code buildfarm.tls.require-client-certificate} turns the requirement on at run time: a request
 * over TLS without a verified client certificate is refused before any handler sees it, gRPC calls
 * with UNAUTHENTICATED, other requests with 401. Two kinds of request are let through without one:
 * health ({@code /q/health}, which kubelet probes read and which tells nothing secret) and push
 * webhooks ({@code /webhooks/}, which carry their own signature and come from git servers that hold
 * no certificate). Plaintext requests are left to the plain port's own rules
 * ({@code quarkus.http.insecure-requests}).
 */
public final class ClientCertificates {

    /** grpc-status of UNAUTHENTICATED. */
    private static final String UNAUTHENTICATED = "16";
    static final String MESSAGE = "a client certificate signed by the farm's CA is required (mutual TLS)";

    private ClientCertificates() {
    }

    /** Adds the check in front of every other route of ROUTER. */
    public static void requireOnTls(Router router) {
        router.route().order(Integer.MIN_VALUE).handler(ctx -> {
            HttpServerRequest request = ctx.request();
            String path = request.path();
            if (!request.isSSL() || path.startsWith("/q/health") || path.startsWith("/webhooks/") || hasVerifiedPeer(request)) {
                ctx.next();
                return;
            }
            String type = request.getHeader("content-type");
            if (type != null && type.startsWith("application/grpc")) {
                // A trailers-only gRPC answer: the status in the response headers (the message is plain ASCII).
                ctx.response().setStatusCode(200).putHeader("content-type", "application/grpc")
                        .putHeader("grpc-status", UNAUTHENTICATED).putHeader("grpc-message", MESSAGE).end();
            } else {
                ctx.response().setStatusCode(401).putHeader("content-type", "text/plain").end(MESSAGE + "\n");
            }
        });
    }

    private static boolean hasVerifiedPeer(HttpServerRequest request) {
        try {
            return !request.connection().peerCertificates().isEmpty();
        } catch (SSLPeerUnverifiedException e) {
            return false;
        }
    }
}
