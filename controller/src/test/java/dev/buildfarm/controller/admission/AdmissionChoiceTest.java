package dev.buildfarm.controller.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.controller.admission.AdmissionChoice.Waiting;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AdmissionChoiceTest {

    private static final String ARM = "linux/arm64";
    private static final String AMD = "linux/amd64";

    private static Waiting job(String platform, String namespace) {
        return new Waiting(UUID.randomUUID(), platform, namespace);
    }

    private static AdmissionChoice choice(Map<String, Integer> platforms, Map<String, Integer> namespaces, int platformLimit, int namespaceLimit) {
        return new AdmissionChoice(platforms, namespaces, p -> platformLimit, n -> namespaceLimit);
    }

    @Test
    void theNamespaceWithFewestInFlightGoesFirstEvenWhenAnotherWaitedLonger() {
        List<Waiting> waiting = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            waiting.add(job(ARM, "flood"));
        }
        Waiting late = job(ARM, "quiet");
        waiting.add(late);
        // One slot left on the arm pool; the flooding team holds 5 of it already.
        List<Waiting> chosen = choice(Map.of(ARM, 5), Map.of("flood", 5), 6, 100).choose(waiting);
        assertThat(chosen).containsExactly(late);
    }

    @Test
    void slotsAreSharedRoundRobinOldestFirstWithinANamespace() {
        Waiting a1 = job(ARM, "a");
        Waiting a2 = job(ARM, "a");
        Waiting a3 = job(ARM, "a");
        Waiting b1 = job(ARM, "b");
        Waiting b2 = job(ARM, "b");
        List<Waiting> chosen = choice(Map.of(), Map.of(), 4, 100).choose(List.of(a1, a2, a3, b1, b2));
        assertThat(chosen).containsExactly(a1, b1, a2, b2);
    }

    @Test
    void aNamespaceAtItsLimitAdmitsNothingMoreWhileThePlatformHasRoom() {
        Waiting a1 = job(ARM, "a");
        Waiting a2 = job(ARM, "a");
        Waiting b1 = job(AMD, "b");
        List<Waiting> chosen = new AdmissionChoice(Map.of(), Map.of("a", 1), p -> 32, n -> n.equals("a") ? 2 : 8)
                .choose(List.of(a1, a2, b1));
        assertThat(chosen).containsExactly(b1, a1);
    }

    @Test
    void aPlatformAtItsLimitDoesNotHoldBackTheOthers() {
        Waiting arm = job(ARM, "a");
        Waiting amd = job(AMD, "a");
        List<Waiting> chosen = new AdmissionChoice(Map.of(ARM, 2), Map.of(), p -> p.equals(ARM) ? 2 : 32, n -> 8)
                .choose(List.of(arm, amd));
        assertThat(chosen).containsExactly(amd);
    }

    @Test
    void nothingIsAdmittedWhenEveryLimitIsReached() {
        assertThat(choice(Map.of(ARM, 32), Map.of(), 32, 8).choose(List.of(job(ARM, "a")))).isEmpty();
        assertThat(choice(Map.of(), Map.of("a", 8), 32, 8).choose(List.of(job(ARM, "a"), job(AMD, "a")))).isEmpty();
    }

    @Test
    void theSubmitBucketAllowsABurstThenTheRate() {
        SubmitRateLimiter.Bucket bucket = new SubmitRateLimiter.Bucket(20, 100, 0);
        for (int i = 0; i < 100; i++) {
            assertThat(bucket.take(0)).isZero();
        }
        assertThat(bucket.take(0)).isEqualTo(50);
        assertThat(bucket.take(49)).isBetween(1L, 2L);
        assertThat(bucket.take(60)).isZero();
        assertThat(bucket.take(10_000)).isZero(); // refilled, capped at the burst
    }
}
