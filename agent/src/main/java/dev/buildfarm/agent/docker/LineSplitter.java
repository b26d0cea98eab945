package dev.buildfarm.agent.docker;

import java.util.function.Consumer;

/** Docker streams build output in chunks, not lines: this buffers and hands on whole lines. */
public final class LineSplitter {

    private final Consumer<String> sink;
    private final StringBuilder pending = new StringBuilder();

    public LineSplitter(Consumer<String> sink) {
        this.sink = sink;
    }

    public synchronized void accept(String chunk) {
        if (chunk == null) {
            return;
        }
        for (int i = 0; i < chunk.length(); i++) {
            char c = chunk.charAt(i);
            if (c == '\n') {
                emit();
            } else if (c != '\r') {
                pending.append(c);
            }
        }
    }

    /** Hands on a last line that had no newline. */
    public synchronized void flush() {
        if (!pending.isEmpty()) {
            emit();
        }
    }

    private void emit() {
        sink.accept(pending.toString());
        pending.setLength(0);
    }
}
