package dev.buildfarm.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import org.junit.jupiter.api.Test;

/** Which endpoints speak TLS, and the TLS files that are refused before anything is sent. */
class EndpointTest {

  @Test
  void httpsSpeaksTlsHttpAndBareEndpointsPlaintext() {
    Endpoint https = Endpoint.of("https://farm.example.com:8443", null, null, null);
    assertThat(https.tls()).isTrue();
    assertThat(https.target()).isEqualTo("farm.example.com:8443");
    assertThat(https.credentials()).isInstanceOf(TlsChannelCredentials.class);

    Endpoint bare = Endpoint.of("127.0.0.1:8080", null, null, null);
    assertThat(bare.tls()).isFalse();
    assertThat(bare.credentials()).isInstanceOf(InsecureChannelCredentials.class);

    assertThat(Endpoint.of("http://127.0.0.1:8080/", null, null, null).target()).isEqualTo("127.0.0.1:8080");
  }

  @Test
  void aBareEndpointWithATlsFileSpeaksTlsAndMissingFilesAreNamed() {
    assertThatThrownBy(() -> Endpoint.of("127.0.0.1:8443", "/nonexistent/ca.crt", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-ca '/nonexistent/ca.crt': no such readable file");
    assertThatThrownBy(() -> Endpoint.of("https://127.0.0.1:8443", null, "/nonexistent/operator.crt", null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("--tls-cert and --tls-key go together: give both or neither");
  }
}
