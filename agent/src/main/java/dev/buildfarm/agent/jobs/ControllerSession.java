package dev.buildfarm.agent.jobs;

import dev.buildfarm.api.v1.AgentServiceGrpc;
import dev.buildfarm.api.v1.AttachRequest;
import dev.buildfarm.api.v1.AttachResponse;
import io.grpc.Channel;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcClient;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Keeps an Attach stream open to the controller for as long as the agent runs, attaching again
 * whenever it breaks. If this process dies, the closed connection tells the controller at once, and
 * it takes this agent's jobs back within seconds instead of a lease timeout.
 */
@ApplicationScoped
public class ControllerSession {

    private static final Logger LOG = Logger.getLogger(ControllerSession.class);
    private static final long REATTACH_MILLIS = 1_000;
    /** The controller watches the connection of the Attach call that names an agent in this header. */
    private static final Metadata.Key<String> AGENT_HEADER = Metadata.Key.of("buildfarm-agent", Metadata.ASCII_STRING_MARSHALLER);

    @GrpcClient("controller")
    Channel channel;

    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "controller-session");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stopped;

    void start(String agent) {
        if (!(channel instanceof ManagedChannel)) {
            LOG.warnf("controller channel is a %s: its reconnect backoff cannot be reset", channel.getClass().getName());
        }
        attach(agent);
    }

    /**
     * Makes the channel try to connect now instead of after its backoff, which grows to two minutes
     * while the controller is down: a restarted controller hears from this agent within a second, well
     * inside its restart grace, so leases are renewed and results delivered instead of expiring.
     */
    public void reconnectNow() {
        if (channel instanceof ManagedChannel managed) {
            managed.resetConnectBackoff();
        }
    }

    private void attach(String agent) {
        if (stopped) {
            return;
        }
        Metadata name = new Metadata();
        name.put(AGENT_HEADER, agent);
        AgentServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(name)).attach(AttachRequest.newBuilder().setAgent(agent).build(), new StreamObserver<>() {
            @Override
            public void onNext(AttachResponse value) {
            }

            @Override
            public void onError(Throwable t) {
                LOG.debugf("attach stream broke (%s); attaching again", t.getMessage());
                again(agent);
            }

            @Override
            public void onCompleted() {
                again(agent);
            }
        });
    }

    private void again(String agent) {
        if (!stopped) {
            reconnectNow();
            timer.schedule(() -> attach(agent), REATTACH_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    @PreDestroy
    void stop() {
        stopped = true;
        timer.shutdownNow();
    }
}
