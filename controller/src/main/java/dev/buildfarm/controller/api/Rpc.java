package dev.buildfarm.controller.api;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/** Runs one unary call: the answer, a caller's error as its status, anything else as INTERNAL. */
public final class Rpc {

    private static final Logger LOG = Logger.getLogger(Rpc.class);

    private Rpc() {
    }

    public static <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
        T response;
        try {
            response = call.get();
        } catch (ApiError e) {
            observer.onError(e.toStatusRuntimeException());
            return;
        } catch (RuntimeException e) {
            LOG.error("internal error", e);
            observer.onError(Status.INTERNAL.withDescription("internal error; see the controller log").asRuntimeException());
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }
}
