package dev.buildfarm.agent.jobs;

import com.google.protobuf.CodedOutputStream;
import dev.buildfarm.api.v1.AgentServiceGrpc.AgentServiceStub;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.AppendLogsResponse;
import dev.buildfarm.api.v1.LogBatch;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Numbers build output lines and ships them to the controller on one ShipLogs stream per attempt.
 * Batches are sent without waiting for each answer, as long as the lines sent and not yet
 * acknowledged stay within a byte window; an acknowledgement means stored, so they are kept until
 * then. If the stream breaks, a new one sends the unacknowledged lines again with the same sequence
 * numbers, which the controller keeps once. A batch goes as columns ({@link LogBatch}): the texts,
 * the read times as differences, and the stage only where it changes.
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

    /** One numbered line; {@code stage} is the same string for every line of a stage. */
    private record Line(long sequence, String text, String stage, long readMicros, int bytes) {
    }

    /** Lines not sent yet (on the current stream), oldest first, their sequences without gaps. */
    private final ArrayDeque<Line> pending = new ArrayDeque<>();
    /** Lines sent and not yet acknowledged, oldest first. */
    private final ArrayDeque<Line> unacked = new ArrayDeque<>();
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
        if (text.startsWith("Step ") && STEP.matcher(text).matches()) {
            stage = text.length() > 255 ? text.substring(0, 255) : text;
        }
        Instant now = Instant.now();
        String kept = truncate(text);
        // What the line adds to a batch: its text, and its read time and framing at most.
        int bytes = CodedOutputStream.computeStringSizeNoTag(kept) + 12;
        pending.add(new Line(++sequence, kept, stage, now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000, bytes));
        if (pending.size() >= MAX_BATCH) {
            // A burst fills a batch long before the flush timer: it goes now rather than waiting.
            send();
        }
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
        // After a broken stream the unacknowledged lines go again even when nothing new is pending
        // (the build's last lines, while close() waits for them).
        if (abandoned || (pending.isEmpty() && (stream != null || unacked.isEmpty()))) {
            return;
        }
        try {
            if (stream == null && !open()) {
                return;
            }
            // The stream may break inside onNext as well (direct executor): then stop, it reopens later.
            while (stream != null && !pending.isEmpty() && unackedBytes < windowBytes) {
                LogBatch.Builder batch = LogBatch.newBuilder().setFirstSequence(pending.peekFirst().sequence());
                int count = 0;
                long bytes = 0;
                String stage = null;
                long micros = 0;
                while (!pending.isEmpty() && count < MAX_BATCH
                        && (count == 0 || bytes + pending.peekFirst().bytes() + pending.peekFirst().stage().length() * 3L + 8 <= MAX_BATCH_BYTES)) {
                    Line line = pending.removeFirst();
                    if (!line.stage().equals(stage)) {
                        stage = line.stage();
                        batch.addStageStarts(count).addStages(stage);
                        bytes += stage.length() * 3L + 8;
                    }
                    batch.addTexts(line.text()).addReadMicros(line.readMicros() - micros);
                    micros = line.readMicros();
                    unacked.add(line);
                    unackedBytes += line.bytes();
                    bytes += line.bytes();
                    count++;
                }
                stream.onNext(AppendLogsRequest.newBuilder().setJobId(jobId).setAttempt(attempt).setBatch(batch).build());
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
        StreamObserver<AppendLogsRequest> opened = controller.shipLogs(new StreamObserver<>() {
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
        if (generation != mine) {
            // It failed already, on this thread: the agent's channel calls back on the caller's thread
            // (direct executor), and a call on a channel in TRANSIENT_FAILURE fails inside shipLogs().
            // Keeping it would leave the lines on a dead call that nothing reopens.
            return false;
        }
        stream = opened;
        return true;
    }

    private void acknowledged(int streamGeneration, AppendLogsResponse response) {
        boolean cancel;
        synchronized (this) {
            while (!unacked.isEmpty() && unacked.peekFirst().sequence() <= response.getAckedSequence()) {
                unackedBytes -= unacked.removeFirst().bytes();
            }
            // A line acknowledged on an earlier stream and still pending (resent) need not go again.
            while (!pending.isEmpty() && pending.peekFirst().sequence() <= response.getAckedSequence()) {
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
            // The current stream, or the one being opened (stream still null) when the call fails at once.
            if (streamGeneration != generation) {
                return;
            }
            generation++;
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
