package dev.buildfarm.common;

import java.util.LinkedHashMap;
import java.util.Map;
import org.jboss.logging.MDC;

/**
 * The build, platform, attempt and agent that a thread is working for, as log context (MDC): every
 * record logged meanwhile carries them, in JSON logs as fields of "mdc", so one build's story can be
 * picked out of every service's log. Opened with try-with-resources; closing restores what the
 * thread had before, so pooled threads never carry one job's keys into the next.
 */
public final class LogContext implements AutoCloseable {

    public static final String BUILD = "build";
    public static final String PLATFORM = "platform";
    public static final String ATTEMPT = "attempt";
    public static final String AGENT = "agent";

    /** Each key set, with the value it replaced (null: none). */
    private final Map<String, Object> replaced = new LinkedHashMap<>();

    private LogContext() {
    }

    public static LogContext open() {
        return new LogContext();
    }

    /** "builds/{id}". */
    public LogContext build(String name) {
        return put(BUILD, name);
    }

    public LogContext platform(String platform) {
        return put(PLATFORM, platform);
    }

    public LogContext attempt(int attempt) {
        return put(ATTEMPT, Integer.toString(attempt));
    }

    public LogContext agent(String agent) {
        return put(AGENT, agent);
    }

    /** Empty or null values are left out. */
    private LogContext put(String key, String value) {
        if (value != null && !value.isEmpty()) {
            Object before = MDC.put(key, value);
            replaced.putIfAbsent(key, before);
        }
        return this;
    }

    @Override
    public void close() {
        replaced.forEach((key, before) -> {
            if (before == null) {
                MDC.remove(key);
            } else {
                MDC.put(key, before);
            }
        });
        replaced.clear();
    }
}
