package dev.buildfarm.controller.admission;

import dev.buildfarm.common.Namespaces;
import dev.buildfarm.controller.api.ApiError;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per namespace for SubmitBuild: {@code submit-burst} submits at once, refilled at
 * {@code submit-rate} per second. A submit over it is RESOURCE_EXHAUSTED with a google.rpc.RetryInfo
 * saying when a token will be there. Each controller replica keeps its own buckets.
 */
@ApplicationScoped
public class SubmitRateLimiter {

    @Inject
    Clock clock;

    @Inject
    AdmissionLimits limits;

    private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** Takes a token of the repository's namespace, or throws RESOURCE_EXHAUSTED with the time until the next one. */
    public void acquire(String repository) {
        String namespace = Namespaces.ofRepository(repository).orElse("");
        Bucket bucket = buckets.computeIfAbsent(namespace,
                n -> new Bucket(limits.submitRate(n), limits.submitBurst(n), clock.millis()));
        long waitMillis = bucket.take(clock.millis());
        if (waitMillis > 0) {
            throw ApiError.resourceExhausted("SUBMIT_RATE_EXCEEDED", "namespace '" + namespace + "' submitted more than "
                    + bucket.burst + " builds at once or " + bucket.rate + " per second; retry in " + waitMillis + " ms",
                    Duration.ofMillis(waitMillis));
        }
    }

    /** Tokens as a double, refilled lazily on each take. */
    static final class Bucket {
        final double rate;
        final int burst;
        private double tokens;
        private long last;

        Bucket(double rate, int burst, long now) {
            this.rate = rate;
            this.burst = burst;
            this.tokens = burst;
            this.last = now;
        }

        /** 0 when a token was taken, else milliseconds until one will be there. */
        synchronized long take(long now) {
            tokens = Math.min(burst, tokens + Math.max(0, now - last) * rate / 1000.0);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) * 1000.0 / rate));
        }
    }
}
