package dev.buildfarm.agent.jobs;

import com.google.protobuf.Timestamp;
import dev.buildfarm.api.v1.AgentServiceGrpc.AgentServiceStub;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.api.v1.LogLine;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Numbers build output lines and ships them to the controller on one ShipLogs stream per attempt.
 * Batches are sent without waiting for each answer, as long as the lines sent and not yet
 * acknowledged stay within a byte window; an acknowledgement means stored, so they are kept until
 * then. If the stream breaks, a new one sends the unacknowledged lines again with the same sequence
 * numbers, which the controller keeps once.
 */
final class LogShipper {

    private static final Logger LOG = Logger.getLogger(LogShipper.class);
    private static final int MAX_BATCH = 5_000;
    private static final long MAX_BATCH_BYTES = 1024 * 1024;
    private static final int MAX_LINE_BYTES = 64 * 1024;
    private static final long REOPEN_MILLIS = 500;
    private static final Pattern STEP = Pattern.compile("^Step \\d+/\\d+ : .*");

    private final AgentServiceStub controller;
    private final String jobId;
    private final int attempt;
    private final Runnable onCancel;
    private final SecretRedactor redactor;
    private final long windowBytes;

    /** Lines not sent yet (on the current stream), oldest first. */
    private final ArrayDeque<LogLine> pending = new ArrayDeque<>();
    /** Lines sent and not yet acknowledged, oldest first. */
    private final ArrayDeque<LogLine> unacked = new ArrayDeque<>();
    private long unackedBytes;
    private StreamObserver<AppendLogsRequest> stream;
    private int generation;
    private long reopenAfter;
    private boolean abandoned;
    private boolean cancelled;
    private long sequence;
    private String stage = "";

    LogShipper(AgentServiceStub controller, String jobId, int attempt, Runnable onCancel, long windowBytes,
               SecretRedactor redactor) {
        this.controller = controller;
        this.redactor = redactor;
        this.jobId = jobId;
        this.attempt = attempt;
        this.onCancel = onCancel;
        this.windowBytes = windowBytes;
    }

    /** The agent's own stage (checkout, pull, build, push) for the lines that follow. */
    synchronized void stage(String name) {
        stage = name;
    }

    /** A whole line: secret values are removed from it before anything else sees it. */
    synchronized void line(String line) {
        String text = redactor.redact(line);
        // The classic builder announces each Dockerfile instruction as "Step 3/7 : RUN make".
        if (STEP.matcher(text).matches()) {
            stage = text.length() > 255 ? text.substring(0, 255) : text;
        }
        Instant now = Instant.now();
        pending.add(LogLine.newBuilder()
                .setSequence(++sequence)
                .setText(truncate(text))
                .setStage(stage)
                .setTime(Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()))
                .build());
    }

    /** Sends what is pending, as far as the window allows (the flush timer calls it). */
    synchronized void flush() {
        send();
    }

    /**
     * Sends everything and waits, at most {@code millis}, until the controller has stored it all:
     * the last thing before the job is finished, so a finished job's log is complete.
     */
    synchronized void close(long millis) {
        long deadline = System.currentTimeMillis() + millis;
        try {
            while (!abandoned && (!pending.isEmpty() || !unacked.isEmpty())) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    LOG.warnf("%d log lines not acknowledged by the controller in time", pending.size() + unacked.size());
                    break;
                }
                send();
                wait(Math.min(left, 50));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (stream != null) {
            try {
                stream.onCompleted();
            } catch (RuntimeException ignored) {
                // The stream is gone already.
            }
            stream = null;
            generation++;
        }
    }

    /** Holds this. */
    private void send() {
        // Lines sent on a stream that broke are still owed: open a new one for them even when nothing
        // new is pending (a build that ended while the controller restarted would wait out close()).
        if (abandoned || pending.isEmpty() && (stream != null || unacked.isEmpty())) {
            return;
        }
        try {
            if (stream == null && !open()) {
                return;
            }
            while (!pending.isEmpty() && unackedBytes < windowBytes) {
                List<LogLine> batch = new ArrayList<>();
                long bytes = 0;
                while (!pending.isEmpty() && batch.size() < MAX_BATCH
                        && (batch.isEmpty() || bytes + pending.peekFirst().getSerializedSize() <= MAX_BATCH_BYTES)) {
                    LogLine line = pending.removeFirst();
                    batch.add(line);
                    bytes += line.getSerializedSize();
                }
                unacked.addAll(batch);
                unackedBytes += bytes;
                stream.onNext(AppendLogsRequest.newBuilder().setJobId(jobId).setAttempt(attempt).addAllLines(batch).build());
            }
        } catch (RuntimeException e) {
            broken(generation, Status.fromThrowable(e));
        }
    }

    /** Opens a new stream and puts the unacknowledged lines first in line again. Holds this. */
    private boolean open() {
        if (System.currentTimeMillis() < reopenAfter) {
            return false;
        }
        while (!unacked.isEmpty()) {
            pending.addFirst(unacked.removeLast());
        }
        unackedBytes = 0;
        int mine = ++generation;
        stream = controller.shipLogs(new StreamObserver<>() {
            @Override
            public void onNext(AppendLogsResponse response) {
                acknowledged(mine, response);
            }

            @Override
            public void onError(Throwable t) {
                broken(mine, Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                broken(mine, Status.UNAVAILABLE.withDescription("the controller ended the log stream"));
            }
        });
        return true;
    }

    private void acknowledged(int streamGeneration, AppendLogsResponse response) {
        boolean cancel;
        synchronized (this) {
            while (!unacked.isEmpty() && unacked.peekFirst().getSequence() <= response.getAckedSequence()) {
                unackedBytes -= unacked.removeFirst().getSerializedSize();
            }
            // A line acknowledged on an earlier stream and still pending (resent) need not go again.
            while (!pending.isEmpty() && pending.peekFirst().getSequence() <= response.getAckedSequence()) {
                pending.removeFirst();
            }
            cancel = response.getCancelRequested() && !cancelled;
            cancelled |= cancel;
            notifyAll();
        }
        if (cancel) {
            onCancel.run();
        }
    }

    private void broken(int streamGeneration, Status status) {
        boolean cancel = false;
        synchronized (this) {
            if (streamGeneration != generation || stream == null) {
                return;
            }
            stream = null;
            if (status.getCode() == Status.Code.FAILED_PRECONDITION) {
                // The attempt lost its lease: nobody wants these lines any more.
                abandoned = true;
                pending.clear();
                unacked.clear();
                unackedBytes = 0;
                cancel = !cancelled;
                cancelled = true;
            } else {
                LOG.debugf("log stream broke (%s); sending the unacknowledged lines again", status);
                reopenAfter = status.getCode() == Status.Code.ABORTED ? 0 : System.currentTimeMillis() + REOPEN_MILLIS;
            }
            notifyAll();
        }
        if (cancel) {
            onCancel.run();
        }
    }

    private static String truncate(String text) {
        if (text.length() * 3L <= MAX_LINE_BYTES) {
            return text; // short enough whatever its characters
        }
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_LINE_BYTES) {
            return text;
        }
        return new String(bytes, 0, MAX_LINE_BYTES, StandardCharsets.UTF_8) + " [line truncated]";
    }
}
