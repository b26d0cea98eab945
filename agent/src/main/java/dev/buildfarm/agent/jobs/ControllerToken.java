package dev.buildfarm.agent.jobs;

import dev.buildfarm.agent.AgentSettings;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Sends the agent's own token (an AGENT token: it reaches the controller's AgentService and nothing
 * else) on every call to the controller, from buildfarm.agent.token or the file named by
 * buildfarm.agent.token-file. Without either, calls go without credentials (a controller with
 * authentication off).
 */
@ApplicationScoped
@GlobalInterceptor
public class ControllerToken implements ClientInterceptor {

    private static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

    private final String header;

    ControllerToken(AgentSettings settings) {
        Optional<String> value = settings.token().filter(t -> !t.isBlank());
        Optional<String> file = settings.tokenFile();
        if (value.isEmpty() && file.isPresent() && !file.get().isBlank()) {
            try {
                value = Optional.of(Files.readString(Path.of(file.get())).trim());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read buildfarm.agent.token-file " + file.get(), e);
            }
        }
        header = value.map(t -> "Bearer " + t).orElse(null);
    }

    @Override
    public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<A> listener, Metadata headers) {
                if (header != null) {
                    headers.put(AUTHORIZATION, header);
                }
                super.start(listener, headers);
            }
        };
    }
}
