package dev.buildfarm.bench;

import java.time.Duration;

/**
 * When each request of an open-loop run is due: request i at start + i / rate, whatever happened to
 * the requests before it. Latency is counted from the due time, not from when the request was
 * actually sent, so a stall of the server (or of the sender) shows in every request it delayed
 * instead of silently lowering the offered rate (coordinated omission).
 */
record OpenLoopSchedule(double perSecond, Duration duration) {

    OpenLoopSchedule {
        if (perSecond <= 0 || duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("rate and duration must be positive: " + perSecond + "/s for " + duration);
        }
    }

    /** How many requests the run sends. */
    int count() {
        return (int) Math.floor(perSecond * duration.toNanos() / 1e9);
    }

    /** Nanoseconds after the start at which request i is due. */
    long dueNanos(int i) {
        return Math.round(i * 1e9 / perSecond);
    }

    /** Latency of a request due at dueNanos and answered at answeredNanos (same clock), in milliseconds. */
    static double latencyMillis(long dueNanos, long answeredNanos) {
        return (answeredNanos - dueNanos) / 1e6;
    }
}
