package dev.buildfarm.controller.tls;

import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.ListBuildsRequest;
import dev.buildfarm.api.v1.ListBuildsResponse;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.MetadataUtils;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;

/** Clients of the controller's TLS port, each trusting a CA and presenting a certificate or none. */
final class TlsClients {

    private TlsClients() {
    }

    static int tlsPort() {
        return ConfigProvider.getConfig().getValue("quarkus.http.test-ssl-port", Integer.class);
    }

    /** A channel to 127.0.0.1:PORT over TLS that trusts CA and presents CLIENT (a name in {@link TestCertificates}), or no certificate when null. */
    static ManagedChannel channel(int port, String ca, String client) {
        TestCertificates certs = TestCertificates.get();
        try {
            TlsChannelCredentials.Builder tls = TlsChannelCredentials.newBuilder().trustManager(new File(certs.file(ca + ".crt")));
            if (client != null) {
                tls.keyManager(new File(certs.file(client + ".crt")), new File(certs.file(client + ".key")));
            }
            return channel(port, tls.build());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ManagedChannel channel(int port, ChannelCredentials credentials) {
        return Grpc.newChannelBuilder("127.0.0.1:" + port, credentials).build();
    }

    /** ListBuilds with TOKEN as the bearer token (none when null): the smallest call that needs authentication. */
    static ListBuildsResponse listBuilds(ManagedChannel channel, String token) {
        BuildServiceGrpc.BuildServiceBlockingStub stub = BuildServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        if (token != null) {
            Metadata headers = new Metadata();
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            stub = stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return stub.listBuilds(ListBuildsRequest.newBuilder().setPageSize(1).build());
    }

    static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
