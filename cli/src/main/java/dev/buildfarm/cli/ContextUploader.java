package dev.buildfarm.cli;

import com.google.protobuf.ByteString;
import dev.buildfarm.api.v1.BuildServiceGrpc;
import dev.buildfarm.api.v1.Context;
import dev.buildfarm.api.v1.ContextChunk;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * An output stream that is an UploadContext call: bytes go out in 1 MiB chunks, each sent only when
 * the stream is ready (so a large context is never buffered whole), and a refusal from the
 * controller (over the limit, a bad entry) stops the writer at once as a StatusRuntimeException.
 */
final class ContextUploader extends OutputStream {

  static final int CHUNK = 1024 * 1024;

  private final CompletableFuture<Context> answer = new CompletableFuture<>();
  private final Object ready = new Object();
  private final ClientCallStreamObserver<ContextChunk> requests;
  private final byte[] buffer = new byte[CHUNK];
  private int filled;
  private long sent;

  ContextUploader(BuildServiceGrpc.BuildServiceStub stub) {
    CompletableFuture<ClientCallStreamObserver<ContextChunk>> started = new CompletableFuture<>();
    stub.uploadContext(new ClientResponseObserver<ContextChunk, Context>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<ContextChunk> stream) {
        started.complete(stream);
        stream.setOnReadyHandler(ContextUploader.this::wake);
      }

      @Override
      public void onNext(Context context) {
        answer.complete(context);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
        wake();
      }

      @Override
      public void onCompleted() {
        wake();
      }
    });
    this.requests = started.join();
  }

  long sent() {
    return sent;
  }

  @Override
  public void write(int b) {
    write(new byte[] {(byte) b}, 0, 1);
  }

  @Override
  public void write(byte[] data, int off, int len) {
    while (len > 0) {
      int n = Math.min(len, CHUNK - filled);
      System.arraycopy(data, off, buffer, filled, n);
      filled += n;
      off += n;
      len -= n;
      if (filled == CHUNK) {
        send();
      }
    }
  }

  /** Sends what is buffered; the call itself ends with {@link #finish()}. */
  @Override
  public void close() {
    if (filled > 0) {
      send();
    }
  }

  /** Ends the upload and returns the controller's answer. */
  Context finish() throws InterruptedException {
    close();
    if (!answer.isDone()) {
      requests.onCompleted();
    }
    try {
      return answer.get();
    } catch (ExecutionException e) {
      throw asStatus(e.getCause());
    }
  }

  private void send() {
    synchronized (ready) {
      while (!requests.isReady() && !answer.isDone()) {
        try {
          ready.wait(1_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          requests.cancel("interrupted", e);
          throw Status.CANCELLED.withDescription("upload interrupted").asRuntimeException();
        }
      }
    }
    if (answer.isCompletedExceptionally()) {
      try {
        answer.join();
      } catch (CompletionException e) {
        throw asStatus(e.getCause());
      }
    }
    requests.onNext(ContextChunk.newBuilder().setData(ByteString.copyFrom(buffer, 0, filled)).build());
    sent += filled;
    filled = 0;
  }

  private void wake() {
    synchronized (ready) {
      ready.notifyAll();
    }
  }

  private static StatusRuntimeException asStatus(Throwable t) {
    return t instanceof StatusRuntimeException sre ? sre : Status.fromThrowable(t).asRuntimeException();
  }
}
