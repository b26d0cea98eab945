package dev.buildfarm.agent.jobs;

import dev.buildfarm.api.v1.AgentServiceGrpc.AgentServiceBlockingStub;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.LogLine;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import com.google.protobuf.Timestamp;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.regex.Pattern;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Numbers build output lines and sends them to the controller in batches. A batch that fails is
 * kept and resent with the same sequence numbers, which the controller stores once.
 */
final class LogShipper {

    private static final int MAX_BATCH = 5_000;
    private static final long MAX_BATCH_BYTES = 1024 * 1024;
    private static final int MAX_LINE_BYTES = 64 * 1024;

    private final AgentServiceBlockingStub controller;
    private final String jobId;
    private final int attempt;
    private final Runnable onCancel;
    private final SecretRedactor redactor;
    private static final Pattern STEP = Pattern.compile("^Step \\d+/\\d+ : .*");

    private final List<LogLine> pending = new ArrayList<>();
    private final Object flushing = new Object();
    private long sequence;
    private String stage = "";

    LogShipper(AgentServiceBlockingStub controller, String jobId, int attempt, Runnable onCancel, SecretRedactor redactor) {
        this.controller = controller;
        this.redactor = redactor;
        this.jobId = jobId;
        this.attempt = attempt;
        this.onCancel = onCancel;
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

    /**
     * Sends what is pending; on a transient error the lines stay for the next flush. One flush at a
     * time (the timer's and the final one may overlap), and acknowledged lines are removed by
     * sequence, so no line is dropped unsent.
     */
    void flush() {
        synchronized (flushing) {
            flushPending();
        }
    }

    private void flushPending() {
        while (true) {
            List<LogLine> batch;
            synchronized (this) {
                if (pending.isEmpty()) {
                    return;
                }
                batch = nextBatch();
            }
            try {
                boolean cancel = controller.withDeadlineAfter(10, TimeUnit.SECONDS).appendLogs(AppendLogsRequest.newBuilder()
                        .setJobId(jobId).setAttempt(attempt).addAllLines(batch).build()).getCancelRequested();
                long sent = batch.get(batch.size() - 1).getSequence();
                synchronized (this) {
                    pending.removeIf(line -> line.getSequence() <= sent);
                }
                if (cancel) {
                    onCancel.run();
                }
            } catch (StatusRuntimeException e) {
                if (e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION) {
                    // The attempt lost its lease: nobody wants these lines any more.
                    synchronized (this) {
                        pending.clear();
                    }
                    onCancel.run();
                }
                return;
            }
        }
    }

    /** The oldest pending lines, at most MAX_BATCH of them and about MAX_BATCH_BYTES (well under the gRPC limit). */
    private List<LogLine> nextBatch() {
        List<LogLine> batch = new ArrayList<>();
        long bytes = 0;
        for (LogLine line : pending) {
            if (batch.size() == MAX_BATCH || (!batch.isEmpty() && bytes + line.getSerializedSize() > MAX_BATCH_BYTES)) {
                break;
            }
            batch.add(line);
            bytes += line.getSerializedSize();
        }
        return batch;
    }

    private static String truncate(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_LINE_BYTES) {
            return text;
        }
        return new String(bytes, 0, MAX_LINE_BYTES, StandardCharsets.UTF_8) + " [line truncated]";
    }
}
