package dev.buildfarm.controller.logs;

import com.google.protobuf.util.Timestamps;
import dev.buildfarm.api.v1.AppendLogsRequest;
import dev.buildfarm.api.v1.LogBatch;
import dev.buildfarm.api.v1.LogLine;
import dev.buildfarm.controller.api.ApiError;
import java.util.List;

/**
 * One agent batch in columns, whether it came as a {@link LogBatch} or as one {@link LogLine} per
 * line. Lines of one stage share one stage string. A read time of 0 means the agent gave none.
 */
public final class AgentLines {

    final int size;
    final long[] sequences;
    final String[] texts;
    final String[] stages;
    final long[] readMicros;

    private AgentLines(int size) {
        this.size = size;
        this.sequences = new long[size];
        this.texts = new String[size];
        this.stages = new String[size];
        this.readMicros = new long[size];
    }

    public int size() {
        return size;
    }

    /** The batch's highest sequence, or 0 for an empty batch. */
    public long lastSequence() {
        return size == 0 ? 0 : sequences[size - 1];
    }

    public static AgentLines of(AppendLogsRequest request) {
        if (!request.hasBatch()) {
            return of(request.getLinesList());
        }
        if (request.getLinesCount() > 0) {
            throw ApiError.invalid("batch", "send lines or a batch, not both");
        }
        return of(request.getBatch());
    }

    public static AgentLines of(LogBatch batch) {
        int n = batch.getTextsCount();
        if (batch.getReadMicrosCount() != n) {
            throw ApiError.invalid("batch.read_micros", batch.getReadMicrosCount() + " read times for " + n + " texts");
        }
        if (batch.getStageStartsCount() != batch.getStagesCount()) {
            throw ApiError.invalid("batch.stage_starts", batch.getStageStartsCount() + " starts for " + batch.getStagesCount() + " stages");
        }
        if (n > 0 && batch.getFirstSequence() < 1) {
            throw ApiError.invalid("batch.first_sequence", "sequences count from 1");
        }
        AgentLines lines = new AgentLines(n);
        int run = 0;
        int runs = batch.getStageStartsCount();
        String stage = "";
        long micros = 0;
        for (int i = 0; i < n; i++) {
            while (run < runs && batch.getStageStarts(run) <= i) {
                if (batch.getStageStarts(run) < 0 || (run > 0 && batch.getStageStarts(run) <= batch.getStageStarts(run - 1))) {
                    throw ApiError.invalid("batch.stage_starts", "must ascend");
                }
                stage = batch.getStages(run++);
            }
            lines.sequences[i] = batch.getFirstSequence() + i;
            lines.texts[i] = batch.getTexts(i);
            lines.stages[i] = stage;
            micros += batch.getReadMicros(i);
            lines.readMicros[i] = micros;
        }
        if (run < runs) {
            throw ApiError.invalid("batch.stage_starts", "a start past the last line, or not ascending");
        }
        return lines;
    }

    public static AgentLines of(List<LogLine> list) {
        AgentLines lines = new AgentLines(list.size());
        String stage = "";
        for (int i = 0; i < list.size(); i++) {
            LogLine line = list.get(i);
            lines.sequences[i] = line.getSequence();
            lines.texts[i] = line.getText();
            stage = line.getStage().equals(stage) ? stage : line.getStage();
            lines.stages[i] = stage;
            lines.readMicros[i] = line.hasTime() ? Timestamps.toMicros(line.getTime()) : 0;
        }
        return lines;
    }
}
