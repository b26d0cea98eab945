package dev.buildfarm.controller.rules;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.BuildRule.RefType;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RuleIndexTest {

    private static final RuleIndex.Version V1 = new RuleIndex.Version(Instant.EPOCH, 1);

    private final UUID main = UUID.randomUUID();
    private final UUID mainTag = UUID.randomUUID();
    private final UUID releases = UUID.randomUUID();
    private final UUID anything = UUID.randomUUID();
    private final RuleIndex index = new RuleIndex(V1, List.of(
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
    void literalPrefixIsWhatEveryMatchStartsWith() {
        assertThat(RefPattern.literalPrefix("release-(?<imageTag>\\w*)")).isEqualTo("release-");
        assertThat(RefPattern.literalPrefix("^release-.*")).isEqualTo("release-");
        assertThat(RefPattern.literalPrefix("rel\\.x-\\d+")).isEqualTo("rel.x-");
        // A quantified character is optional or repeated: it is not part of the prefix.
        assertThat(RefPattern.literalPrefix("release-v?(?<n>\\d+)")).isEqualTo("release-");
        assertThat(RefPattern.literalPrefix("ab{2}c")).isEqualTo("a");
        assertThat(RefPattern.literalPrefix("feature-x*")).isEqualTo("feature-");
        // Alternation inside a group keeps the prefix before it; at the top level there is none.
        assertThat(RefPattern.literalPrefix("release-(a|b)")).isEqualTo("release-");
        assertThat(RefPattern.literalPrefix("release-a|hotfix-b")).isEmpty();
        assertThat(RefPattern.literalPrefix("[r]elease-(x|y)|z")).isEmpty();
        assertThat(RefPattern.literalPrefix("release-[|]x")).isEqualTo("release-");
        // Patterns that start with a construct have no literal prefix.
        assertThat(RefPattern.literalPrefix("(?<name>.+)")).isEmpty();
        assertThat(RefPattern.literalPrefix("(?i)release-.*")).isEmpty();
        assertThat(RefPattern.literalPrefix("[rR]elease")).isEmpty();
        assertThat(RefPattern.literalPrefix("\\d+-x")).isEmpty();
        assertThat(RefPattern.literalPrefix("\\Qa.b\\E.*")).isEmpty();
        assertThat(RefPattern.compile("release-1.0").literalPrefix()).as("an exact name").isEqualTo("release-1.0");
    }

    @Test
    void aPushOnlyTriesRegexesWhosePrefixStartsTheRef() {
        List<RuleIndex.Entry> entries = new ArrayList<>();
        for (int i = 0; i < 9_999; i++) {
            entries.add(new RuleIndex.Entry(UUID.randomUUID(), RefType.BRANCH, RefPattern.compile("feature-(?<n>\\d+)-x" + i)));
        }
        UUID release = UUID.randomUUID();
        UUID noPrefix = UUID.randomUUID();
        entries.add(new RuleIndex.Entry(release, RefType.BRANCH, RefPattern.compile("release-(?<imageTag>\\w*)")));
        entries.add(new RuleIndex.Entry(noPrefix, RefType.BRANCH, RefPattern.compile("(?<any>rel.*)")));
        RuleIndex big = new RuleIndex(V1, entries);

        assertThat(big.regexCandidates(RefType.BRANCH, "release-v1")).isEqualTo(2);
        assertThat(big.match(RefType.BRANCH, "release-v1")).containsOnlyKeys(release, noPrefix)
                .containsEntry(release, Map.of("imageTag", "v1"));
        assertThat(big.regexCandidates(RefType.BRANCH, "feature-7-x42")).isEqualTo(10_000);
        assertThat(big.match(RefType.BRANCH, "feature-7-x42")).hasSize(1);
        assertThat(big.regexCandidates(RefType.BRANCH, "main")).isEqualTo(1);
        assertThat(big.regexCandidates(RefType.TAG, "release-v1")).isZero();
    }

    @Test
    void matchesWhatTryingEveryRuleMatches() {
        List<String> patterns = List.of("main", "release-1.0", "release-(?<v>\\w+)", "release-v?(?<n>\\d+)", "^rel.*",
                "rel\\.x-(?<n>\\d+)", "release-a|hotfix-(?<h>.+)", "(?<all>.+)", "[rh]\\w+-(?<x>.*)", "hot(fix)?-(?<y>\\d+)",
                "ab{2}c", "a", "(?i)MAIN", "feature/(?<topic>[^/]+)", "v(?<major>\\d+)\\.(?<minor>\\d+)");
        List<RuleIndex.Entry> entries = new ArrayList<>();
        for (String pattern : patterns) {
            entries.add(new RuleIndex.Entry(UUID.randomUUID(), RefType.BRANCH, RefPattern.compile(pattern)));
        }
        RuleIndex indexed = new RuleIndex(V1, entries);
        for (String name : List.of("main", "MAIN", "release-1.0", "release-v1", "release-12", "rel.x-3", "relax-3", "hotfix-9",
                "hot-9", "h-", "abbc", "abc", "a", "", "feature/login", "feature/a/b", "v1.2", "v1x2", "release-a", "xrelease-v1")) {
            Map<UUID, Map<String, String>> everyRule = new LinkedHashMap<>();
            for (RuleIndex.Entry entry : entries) {
                entry.pattern().match(name).ifPresent(groups -> everyRule.put(entry.uid(), groups));
            }
            assertThat(indexed.match(RefType.BRANCH, name)).as(name).isEqualTo(everyRule);
        }
    }

    @Test
    void tenThousandRegexRulesMatchInMilliseconds() {
        List<RuleIndex.Entry> entries = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            entries.add(new RuleIndex.Entry(UUID.randomUUID(), RefType.BRANCH, RefPattern.compile("team" + i + "-(?<v>\\w+)")));
        }
        RuleIndex big = new RuleIndex(V1, entries);
        for (int i = 0; i < 200; i++) {
            big.match(RefType.BRANCH, "team4242-v" + i); // warm up
        }
        long start = System.nanoTime();
        for (int i = 0; i < 100; i++) {
            assertThat(big.match(RefType.BRANCH, "team4242-v" + i)).hasSize(1);
        }
        // Generous bound for a loaded CI machine; with prefix grouping a push runs one regex here.
        assertThat((System.nanoTime() - start) / 100 / 1_000_000.0).isLessThan(50.0);
    }
}
