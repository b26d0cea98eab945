package dev.buildfarm.controller.context;

import dev.buildfarm.api.v1.Context;
import dev.buildfarm.api.v1.ContextChunk;
import dev.buildfarm.controller.api.ApiError;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.jboss.logging.Logger;

/**
 * The server side of one UploadContext stream: chunks go to disk as they arrive; the first error
 * (over the limit, a bad entry) answers the call at once and the rest of the stream is ignored.
 */
public final class ContextUpload implements StreamObserver<ContextChunk> {

    private static final Logger LOG = Logger.getLogger(ContextUpload.class);

    private final ContextStore store;
    private final StreamObserver<Context> response;
    private ContextStore.Upload upload;
    private boolean done;

    public ContextUpload(ContextStore store, StreamObserver<Context> response) {
        this.store = store;
        this.response = response;
    }

    @Override
    public void onNext(ContextChunk chunk) {
        if (done) {
            return;
        }
        try {
            if (upload == null) {
                upload = store.begin();
            }
            upload.write(chunk.getData());
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    @Override
    public void onError(Throwable t) {
        // The client went away: nothing is stored.
        done = true;
        if (upload != null) {
            upload.abort();
        }
    }

    @Override
    public void onCompleted() {
        if (done) {
            return;
        }
        done = true;
        try {
            if (upload == null) {
                throw ApiError.invalid("data", "the upload is empty; send the context as a tar stream");
            }
            Context context = upload.finish();
            LOG.infof("context %s uploaded: %d bytes, %d entries%s", context.getDigest(), context.getSizeBytes(),
                    context.getEntries(), context.getExisted() ? " (already stored)" : "");
            response.onNext(context);
            response.onCompleted();
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void fail(RuntimeException e) {
        done = true;
        if (upload != null) {
            upload.abort();
        }
        if (e instanceof ApiError api) {
            response.onError(api.toStatusRuntimeException());
        } else {
            LOG.error("context upload failed", e);
            response.onError(Status.INTERNAL.withDescription("context upload failed; see the controller log").asRuntimeException());
        }
    }
}
