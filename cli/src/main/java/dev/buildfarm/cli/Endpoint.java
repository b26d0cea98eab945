package dev.buildfarm.cli;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.File;
import java.io.IOException;

/**
 * Where the controller is and how to speak to it. {@code https://HOST:PORT} is TLS,
 * {@code http://HOST:PORT} plaintext; a bare {@code HOST:PORT} is TLS when any TLS file is given and
 * plaintext otherwise. Over TLS the server is checked against {@code caFile} (PEM), else the JVM's
 * trusted roots; {@code certFile} and {@code keyFile} (PEM, the key PKCS#8) are this client's
 * certificate for servers that require one (mutual TLS).
 */
record Endpoint(String target, boolean tls, ChannelCredentials credentials) {

  static Endpoint of(String endpoint, String caFile, String certFile, String keyFile) {
    boolean anyTlsFile = caFile != null || certFile != null || keyFile != null;
    boolean tls;
    String target;
    if (endpoint.startsWith("https://")) {
      tls = true;
      target = endpoint.substring("https://".length());
    } else if (endpoint.startsWith("http://")) {
      tls = false;
      target = endpoint.substring("http://".length());
    } else {
      tls = anyTlsFile;
      target = endpoint;
    }
    target = target.endsWith("/") ? target.substring(0, target.length() - 1) : target;
    if (!tls) {
      return new Endpoint(target, false, InsecureChannelCredentials.create());
    }
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("--tls-cert and --tls-key go together: give both or neither");
    }
    TlsChannelCredentials.Builder credentials = TlsChannelCredentials.newBuilder();
    try {
      if (caFile != null) {
        credentials.trustManager(readable(caFile, "--tls-ca"));
      }
      if (certFile != null) {
        credentials.keyManager(readable(certFile, "--tls-cert"), readable(keyFile, "--tls-key"));
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read TLS files: " + e.getMessage(), e);
    }
    return new Endpoint(target, true, credentials.build());
  }

  private static File readable(String path, String option) {
    File file = new File(path);
    if (!file.canRead()) {
      throw new IllegalArgumentException(option + " '" + path + "': no such readable file");
    }
    return file;
  }
}
