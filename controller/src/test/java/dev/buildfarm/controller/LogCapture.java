package dev.buildfarm.controller;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.jboss.logmanager.ExtLogRecord;

/** Every record logged in this JVM while open, as written, with the log context (MDC) it carried. */
public final class LogCapture extends Handler implements AutoCloseable {

    public record Captured(String logger, String message, Map<String, String> context) {
    }

    private final Logger root = Logger.getLogger("");
    private final List<Captured> records = new CopyOnWriteArrayList<>();

    public LogCapture() {
        setLevel(Level.ALL);
        root.addHandler(this);
    }

    @Override
    public void publish(LogRecord record) {
        if (record instanceof ExtLogRecord ext) {
            records.add(new Captured(ext.getLoggerName(), ext.getFormattedMessage(), ext.getMdcCopy()));
        } else {
            records.add(new Captured(record.getLoggerName(), new SimpleFormatter().formatMessage(record), Map.of()));
        }
    }

    public List<Captured> records() {
        return List.copyOf(records);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
        root.removeHandler(this);
    }
}
