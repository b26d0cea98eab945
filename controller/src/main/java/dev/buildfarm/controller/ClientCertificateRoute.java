package dev.buildfarm.controller;

import dev.buildfarm.common.ClientCertificates;
import io.vertx.ext.web.Router;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** With buildfarm.tls.require-client-certificate, requests over TLS need a verified client certificate. */
@ApplicationScoped
class ClientCertificateRoute {

    void install(@Observes Router router,
            @ConfigProperty(name = "buildfarm.tls.require-client-certificate", defaultValue = "false") boolean required) {
        if (required) {
            ClientCertificates.requireOnTls(router);
        }
    }
}
