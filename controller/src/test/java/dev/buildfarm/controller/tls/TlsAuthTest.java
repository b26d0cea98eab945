package dev.buildfarm.controller.tls;

import static dev.buildfarm.controller.tls.TlsClients.channel;
import static dev.buildfarm.controller.tls.TlsClients.close;
import static dev.buildfarm.controller.tls.TlsClients.listBuilds;
import static dev.buildfarm.controller.tls.TlsClients.tlsPort;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.buildfarm.controller.tenancy.AuthProfile;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import org.junit.jupiter.api.Test;

/**
 * The controller with TLS turned on (server certificate only): a client that trusts its CA gets
 * answers with a token and UNAUTHENTICATED without one; a client trusting another CA, or speaking
 * plaintext to the TLS port, gets no answer at all.
 */
@QuarkusTest
@TestProfile(TlsProfile.class)
class TlsAuthTest {

    @Test
    void aClientTrustingTheCaIsAnsweredWithAToken() throws Exception {
        ManagedChannel channel = channel(tlsPort(), "ca", null);
        try {
            assertThat(listBuilds(channel, AuthProfile.OPERATOR_TOKEN)).isNotNull();
            assertThatThrownBy(() -> listBuilds(channel, null)).isInstanceOfSatisfying(StatusRuntimeException.class,
                    e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        } finally {
            close(channel);
        }
    }

    @Test
    void aClientTrustingAnotherCaRefusesTheServer() throws Exception {
        ManagedChannel channel = channel(tlsPort(), "other-ca", null);
        try {
            assertThatThrownBy(() -> listBuilds(channel, AuthProfile.OPERATOR_TOKEN))
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
                        assertThat(rootMessage(e)).contains("unable to find valid certification path");
                    });
        } finally {
            close(channel);
        }
    }

    @Test
    void plaintextToTheTlsPortGetsNoAnswer() throws Exception {
        ManagedChannel channel = channel(tlsPort(), InsecureChannelCredentials.create());
        try {
            assertThatThrownBy(() -> listBuilds(channel, AuthProfile.OPERATOR_TOKEN))
                    .isInstanceOfSatisfying(StatusRuntimeException.class,
                            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        } finally {
            close(channel);
        }
    }

    static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return String.valueOf(root.getMessage());
    }
}
