package dev.buildfarm.controller.tls;

import java.util.HashMap;
import java.util.Map;

/**
 * As {@link TlsProfile}, requiring a client certificate signed by the test CA (mutual TLS), with
 * the plain port closed as in production.
 */
public class MutualTlsProfile extends TlsProfile {

    @Override
    public Map<String, String> getConfigOverrides() {
        Map<String, String> config = new HashMap<>(super.getConfigOverrides());
        config.put("quarkus.tls.farm.trust-store.pem.certs", TestCertificates.get().file("ca.crt"));
        config.put("buildfarm.tls.require-client-certificate", "true");
        config.put("quarkus.http.insecure-requests", "disabled");
        return config;
    }
}
