package dev.buildfarm.controller.api;

import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.controller.logs.AgentLines;
import dev.buildfarm.controller.logs.LiveLogs;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * One ShipLogs stream: batches are taken in the order they come, and an answer goes back whenever
 * more of the attempt's lines are stored, so the agent never waits for one batch before the next.
 */
final class LogStream implements StreamObserver<AppendLogsRequest> {

    private static final Logger LOG = Logger.getLogger(LogStream.class);

    private final LiveLogs logs;
    private final StreamObserver<AppendLogsResponse> responses;
    private final Consumer<LiveLogs.Ack> listener = this::send;
    private String jobId;
    private long sentSequence = -1;
    private boolean sentCancel;
    private boolean closed;

    LogStream(LiveLogs logs, StreamObserver<AppendLogsResponse> responses) {
        this.logs = logs;
        this.responses = responses;
    }

    @Override
    public void onNext(AppendLogsRequest request) {
        synchronized (this) {
            if (closed) {
                return;
            }
            if (jobId != null && !jobId.equals(request.getJobId())) {
                fail(Status.INVALID_ARGUMENT.withDescription("job_id: one ShipLogs stream carries the lines of one job").asRuntimeException());
                return;
            }
            jobId = request.getJobId();
        }
        try {
            send(logs.accept(request.getJobId(), request.getAttempt(), AgentLines.of(request), listener));
        } catch (ApiError e) {
            fail(e.toStatusRuntimeException());
        } catch (RuntimeException e) {
            LOG.error("internal error", e);
            fail(Status.INTERNAL.withDescription("internal error; see the controller log").asRuntimeException());
        }
    }

    @Override
    public void onError(Throwable t) {
        end();
    }

    @Override
    public void onCompleted() {
        synchronized (this) {
            if (!closed) {
                responses.onCompleted();
            }
        }
        end();
    }

    private synchronized void send(LiveLogs.Ack ack) {
        if (closed || (ack.ackedSequence() <= sentSequence && ack.cancelRequested() == sentCancel)) {
            return;
        }
        sentSequence = Math.max(sentSequence, ack.ackedSequence());
        sentCancel = ack.cancelRequested();
        try {
            responses.onNext(AppendLogsResponse.newBuilder().setAckedSequence(sentSequence).setCancelRequested(sentCancel).build());
        } catch (RuntimeException e) {
            // The call is gone (cancelled by the agent): nothing more to tell.
            closed = true;
        }
    }

    private void fail(RuntimeException status) {
        synchronized (this) {
            if (!closed) {
                closed = true;
                responses.onError(status);
            }
        }
        end();
    }

    private void end() {
        String job;
        synchronized (this) {
            closed = true;
            job = jobId;
        }
        if (job != null) {
            logs.unlisten(job, listener);
        }
    }
}
