package dev.buildfarm.controller.tls;

import static dev.buildfarm.controller.tls.TlsClients.channel;
import static dev.buildfarm.controller.tls.TlsClients.close;
import static dev.buildfarm.controller.tls.TlsClients.listBuilds;
import static dev.buildfarm.controller.tls.TlsClients.tlsPort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.controller.tenancy.AuthProfile;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

/**
 * The controller requiring client certificates (mutual TLS): a call without one is UNAUTHENTICATED
 * whatever its token, and so is one with a certificate of another CA; a valid certificate still needs a
 * token (UNAUTHENTICATED without), and with both the call is answered.
 */
@QuarkusTest
@TestProfile(MutualTlsProfile.class)
class MutualTlsAuthTest {

    @Test
    void aClientWithoutACertificateIsRefusedBeforeItsTokenIsRead() throws Exception {
        ManagedChannel channel = channel(tlsPort(), "ca", null);
        try {
            assertThatThrownBy(() -> listBuilds(channel, AuthProfile.OPERATOR_TOKEN))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                        assertThat(e.getStatus().getDescription()).contains("client certificate");
                    });
        } finally {
            close(channel);
        }
    }

    @Test
    void aCertificateOfAnotherCaIsRefused() throws Exception {
        // The server asks for a certificate of its CA; the client has none to offer, so the call
        // arrives without one (a certificate that is offered must verify, or the handshake fails).
        ManagedChannel channel = channel(tlsPort(), "ca", "other-client");
        try {
            assertThatThrownBy(() -> listBuilds(channel, AuthProfile.OPERATOR_TOKEN))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
                        assertThat(e.getStatus().getDescription()).contains("client certificate");
                    });
        } finally {
            close(channel);
        }
    }

    @Test
    void aValidCertificateStillNeedsAToken() throws Exception {
        ManagedChannel channel = channel(tlsPort(), "ca", "client");
        try {
            assertThatThrownBy(() -> listBuilds(channel, null)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
            assertThat(listBuilds(channel, AuthProfile.OPERATOR_TOKEN)).isNotNull();
        } finally {
            close(channel);
        }
    }
}
