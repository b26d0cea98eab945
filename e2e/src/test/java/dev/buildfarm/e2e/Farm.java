package dev.buildfarm.e2e;

import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.GetBuildRequest;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.Awaitility;

/** The running farm and stack the tests talk to (started by dev/test.sh), read from the environment. */
final class Farm {

    /** The controller's gRPC endpoint: https:// is TLS, with the stack's dev CA and operator certificate. */
    static final String ENDPOINT = env("BUILDFARM_ENDPOINT", "https://127.0.0.1:8443");
    /** The controller's plain HTTP port (host:port): dashboard, webhooks, metrics. */
    static final String HTTP = env("BUILDFARM_HTTP", "127.0.0.1:8080");
    private static final Path STACK_DIR = Path.of(env("BUILDFARM_STACK_DIR", Path.of("..", ".stack").toAbsolutePath().normalize().toString()));
    /** What dev/services.sh made under secrets/tls: the CA and the operator's client certificate. */
    static final String TLS_CA = env("BUILDFARM_TLS_CA", STACK_DIR.resolve("secrets/tls/ca.crt").toString());
    static final String TLS_CERT = env("BUILDFARM_TLS_CERT", STACK_DIR.resolve("secrets/tls/operator.crt").toString());
    static final String TLS_KEY = env("BUILDFARM_TLS_KEY", STACK_DIR.resolve("secrets/tls/operator.key").toString());
    static final String REGISTRY = env("REGISTRY", "127.0.0.1:5000");
    static final String KAFKA = env("KAFKA", "127.0.0.1:9092");
    static final Path GIT_BASE = Path.of(env("GIT_BASE", Path.of("..", ".stack", "git").toAbsolutePath().normalize().toString()));
    static final String GIT_URL_BASE = env("GIT_URL_BASE", "git://127.0.0.1:9418");
    static final Path EXAMPLES = Path.of("..", "examples").toAbsolutePath().normalize();

    /** What examples/hello prints when run on each platform (the arm ones name their CPU after "armv"). */
    static final Map<String, String> HELLO_OUTPUT = Map.of(
            "linux/amd64", "Hello, amd64! (built for linux/amd64 on x86_64)",
            "linux/arm64", "Hello, arm64! (built for linux/arm64 on aarch64)",
            "linux/arm/v7", "Hello, arm! (built for linux/arm/v7 on armv",
            "linux/arm/v6", "Hello, arm! (built for linux/arm/v6 on armv");

    private static final Set<Build.State> FINAL = EnumSet.of(Build.State.SUCCEEDED, Build.State.FAILED, Build.State.CANCELLED);
    private static ManagedChannel channel;

    private Farm() {
    }

    /**
     * The operator token dev/services.sh made for the stack (BUILDFARM_TOKEN overrides it); none for a
     * farm whose controller runs without authentication (BUILDFARM_AUTH=off: the fault farm).
     */
    static final String TOKEN = token();

    static synchronized ManagedChannel channel() {
        if (channel == null) {
            Metadata metadata = new Metadata();
            if (!TOKEN.isEmpty()) {
                metadata.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + TOKEN);
            }
            channel = channelTo(ENDPOINT).intercept(MetadataUtils.newAttachHeadersInterceptor(metadata)).build();
        }
        return channel;
    }

    /** A channel to a gRPC endpoint of the farm: https://HOST:PORT over mutual TLS as the operator, else plaintext. */
    static ManagedChannelBuilder<?> channelTo(String endpoint) {
        if (!endpoint.startsWith("https://")) {
            return Grpc.newChannelBuilder(endpoint.replaceFirst("^http://", ""), InsecureChannelCredentials.create());
        }
        try {
            ChannelCredentials credentials = TlsChannelCredentials.newBuilder().trustManager(new File(TLS_CA))
                    .keyManager(new File(TLS_CERT), new File(TLS_KEY)).build();
            return Grpc.newChannelBuilder(endpoint.substring("https://".length()), credentials);
        } catch (IOException e) {
            throw new UncheckedIOException("the farm's TLS files (dev/services.sh up makes them)", e);
        }
    }

    /** Watches every build event into SINK until the answered context is cancelled. */
    static io.grpc.Context.CancellableContext watchBuilds(java.util.function.Consumer<dev.buildfarm.api.v1.BuildEvent> sink) {
        io.grpc.Context.CancellableContext watch = io.grpc.Context.current().withCancellation();
        watch.run(() -> BuildServiceGrpc.newStub(channel()).watchBuilds(dev.buildfarm.api.v1.WatchBuildsRequest.getDefaultInstance(),
                new io.grpc.stub.StreamObserver<>() {
                    @Override
                    public void onNext(dev.buildfarm.api.v1.BuildEvent event) {
                        sink.accept(event);
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                }));
        return watch;
    }

    private static String token() {
        if ("off".equals(System.getenv("BUILDFARM_AUTH"))) {
            return "";
        }
        String value = System.getenv("BUILDFARM_TOKEN");
        if (value != null && !value.isBlank()) {
            return value.trim();
        }
        Path file = STACK_DIR.resolve("secrets").resolve("operator.token");
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("no operator token at " + file + " (dev/services.sh up makes it)", e);
        }
    }

    static BuildServiceGrpc.BuildServiceBlockingStub builds() {
        return BuildServiceGrpc.newBlockingStub(channel());
    }

    static Build awaitFinal(String name, Duration timeout) {
        AtomicReference<Build> last = new AtomicReference<>();
        Awaitility.await(name + " to finish")
                .atMost(timeout)
                .pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    last.set(builds().getBuild(GetBuildRequest.newBuilder().setName(name).build()));
                    return FINAL.contains(last.get().getState());
                });
        return last.get();
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }
}
