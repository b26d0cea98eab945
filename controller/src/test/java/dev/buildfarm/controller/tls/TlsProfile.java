package dev.buildfarm.controller.tls;

import dev.buildfarm.controller.tenancy.AuthProfile;
import java.util.HashMap;
import java.util.Map;

/**
 * Authentication on, and the controller's HTTPS port (gRPC over TLS) on a random port with a
 * server certificate from the TLS registry, as an operator turns it on. No client certificate asked.
 */
public class TlsProfile extends AuthProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        TestCertificates certs = TestCertificates.get();
        Map<String, String> config = new HashMap<>(super.getConfigOverrides());
        config.put("quarkus.tls.farm.key-store.pem.0.cert", certs.file("server.crt"));
        config.put("quarkus.tls.farm.key-store.pem.0.key", certs.file("server.key"));
        config.put("quarkus.http.tls-configuration-name", "farm");
        config.put("quarkus.http.test-ssl-port", "0");
        return config;
    }
}
