package dev.buildfarm.controller.context;

import com.google.protobuf.ByteString;
import dev.buildfarm.api.v1.ContextChunk;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.jboss.logging.Logger;

/**
 * Streams a stored context to an agent in 1 MiB chunks, each sent only when the stream is ready, so
 * a large context is never held in memory. Runs on a thread of its own, not a request worker.
 */
@ApplicationScoped
public class ContextSender {

    private static final Logger LOG = Logger.getLogger(ContextSender.class);
    static final int CHUNK = 1024 * 1024;

    private final ExecutorService senders = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "context-sender");
        t.setDaemon(true);
        return t;
    });

    public void send(Path tar, ServerCallStreamObserver<ContextChunk> observer) {
        Object ready = new Object();
        observer.setOnReadyHandler(() -> {
            synchronized (ready) {
                ready.notifyAll();
            }
        });
        senders.execute(() -> {
            try (InputStream in = Files.newInputStream(tar)) {
                byte[] buffer = new byte[CHUNK];
                int n;
                while ((n = in.readNBytes(buffer, 0, CHUNK)) > 0) {
                    synchronized (ready) {
                        while (!observer.isReady() && !observer.isCancelled()) {
                            ready.wait(1_000);
                        }
                    }
                    if (observer.isCancelled()) {
                        return;
                    }
                    observer.onNext(ContextChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, n)).build());
                }
                observer.onCompleted();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (IOException | RuntimeException e) {
                LOG.warnf(e, "sending context %s failed", tar);
                observer.onError(Status.INTERNAL.withDescription("reading the context failed; see the controller log").asRuntimeException());
            }
        });
    }
}
