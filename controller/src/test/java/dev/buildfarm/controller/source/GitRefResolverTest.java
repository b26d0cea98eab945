package dev.buildfarm.controller.source;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.ErrorInfo;
import dev.buildfarm.common.SourceHosts;
import dev.buildfarm.controller.api.ApiError;
import dev.buildfarm.controller.rules.SourceRefs;
import io.grpc.Status;
import io.grpc.protobuf.StatusProto;
import java.net.InetAddress;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A source host that now resolves to a metadata address is refused before git connects. */
class GitRefResolverTest {

    private static final SourceHosts REBOUND = new SourceHosts(host -> new InetAddress[] {
            InetAddress.getByName("203.0.113.9"), InetAddress.getByName("169.254.169.254")});

    @Test
    void lsRemoteOfARefusedHostIsAFailedPrecondition() {
        GitRefResolver resolver = new GitRefResolver();
        resolver.hosts = REBOUND;
        assertThatThrownBy(() -> resolver.resolve("https://git.example/team/app.git", "main"))
                .isInstanceOfSatisfying(ApiError.class, e -> {
                    var status = e.toStatusRuntimeException();
                    assertThat(status.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(status.getStatus().getDescription())
                            .startsWith("spec.source.url: ")
                            .contains("'git.example' resolves to 169.254.169.254, a link-local or cloud metadata address");
                    assertThat(StatusProto.fromThrowable(status).getDetailsList()).anySatisfy(any -> {
                        assertThat(any.is(ErrorInfo.class)).isTrue();
                        assertThat(unpack(any).getReason()).isEqualTo("SOURCE_REFUSED");
                    });
                });
    }

    @Test
    void listingARepositorysRefsChecksTheHostToo() {
        SourceRefs refs = new SourceRefs();
        setHosts(refs, REBOUND);
        assertThatThrownBy(() -> refs.list("git://git.example/app.git", Optional.empty()))
                .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.getMessage())
                        .startsWith("source.url: ").contains("resolves to 169.254.169.254"));
    }

    private static void setHosts(SourceRefs refs, SourceHosts hosts) {
        try {
            var field = SourceRefs.class.getDeclaredField("hosts");
            field.setAccessible(true);
            field.set(refs, hosts);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ErrorInfo unpack(com.google.protobuf.Any any) {
        try {
            return any.unpack(ErrorInfo.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRedirectToAnUncheckedHostIsNotFollowed() throws Exception {
        java.util.concurrent.atomic.AtomicInteger reached = new java.util.concurrent.atomic.AtomicInteger();
        com.sun.net.httpserver.HttpServer target = server(exchange -> {
            reached.incrementAndGet();
            exchange.sendResponseHeaders(404, -1);
            exchange.close();
        });
        String targetUrl = "http://127.0.0.1:" + target.getAddress().getPort();
        com.sun.net.httpserver.HttpServer redirector = server(exchange -> {
            exchange.getResponseHeaders().add("Location", targetUrl + exchange.getRequestURI());
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        try {
            String url = "http://127.0.0.1:" + redirector.getAddress().getPort() + "/app.git";
            assertThatThrownBy(() -> new GitRefResolver().resolve(url, "main"))
                    .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.getMessage())
                            .startsWith("spec.source.url: ").contains("cannot read git repository"));
            assertThatThrownBy(() -> new SourceRefs().list(url, Optional.empty())).isInstanceOf(ApiError.class);
            assertThat(reached).as("requests that reached the redirect's target").hasValue(0);
        } finally {
            redirector.stop(0);
            target.stop(0);
        }
    }

    private static com.sun.net.httpserver.HttpServer server(com.sun.net.httpserver.HttpHandler handler) throws java.io.IOException {
        com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", handler);
        server.start();
        return server;
    }
}
