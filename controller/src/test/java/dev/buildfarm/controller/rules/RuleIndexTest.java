package dev.buildfarm.controller.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.BuildRule.RefType;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RuleIndexTest {

    private final UUID main = UUID.randomUUID();
    private final UUID mainTag = UUID.randomUUID();
    private final UUID releases = UUID.randomUUID();
    private final UUID anything = UUID.randomUUID();
    private final RuleIndex index = new RuleIndex(new RuleIndex.Version(Instant.EPOCH, 1), List.of(
            new RuleIndex.Entry(main, RefType.BRANCH, RefPattern.compile("main")),
            new RuleIndex.Entry(mainTag, RefType.TAG, RefPattern.compile("main")),
            new RuleIndex.Entry(releases, RefType.BRANCH, RefPattern.compile("release-(?<imageTag>\\w*)")),
            new RuleIndex.Entry(anything, RefType.BRANCH, RefPattern.compile(".*"))));

    @Test
    void matchesByTypeExactNamesAndWholeNameRegexes() {
        assertThat(index.match(RefType.BRANCH, "main")).containsOnlyKeys(main, anything);
        assertThat(index.match(RefType.TAG, "main")).containsOnlyKeys(mainTag);
        assertThat(index.match(RefType.BRANCH, "release-v1")).containsEntry(releases, Map.of("imageTag", "v1")).containsKey(anything);
        assertThat(index.match(RefType.TAG, "release-v1")).isEmpty();
    }

    @Test
    void tenThousandRegexRulesMatchInMilliseconds() {
        List<RuleIndex.Entry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            entries.add(new RuleIndex.Entry(UUID.randomUUID(), RefType.BRANCH, RefPattern.compile("team" + i + "-(?<v>\\w+)")));
        }
        RuleIndex big = new RuleIndex(new RuleIndex.Version(Instant.EPOCH, 1), entries);
        for (int i = 0; i < 200; i++) {
            big.match(RefType.BRANCH, "team4242-v" + i); // warm up
        }
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            assertThat(big.match(RefType.BRANCH, "team4242-v" + i)).hasSize(1);
        }
        // Generous bound for a loaded CI machine; typically well under 5 ms per push.
        assertThat((System.nanoTime() - start) / 100 / 1_000_000.0).isLessThan(50.0);
    }
}
