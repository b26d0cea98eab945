package dev.buildfarm.controller.rules;

import dev.buildfarm.api.v1.BuildRule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.Function;

/**
 * One repository's rules, arranged for matching a pushed ref cheaply: exact names by hash, and
 * regular expressions grouped by their literal prefix, so a push of "release-x" only runs the
 * regexes whose prefix ("release-", "rel", "") starts the ref. Kept in memory per repository and
 * rebuilt when the repository's rules_version (bumped in every rule change's transaction) differs,
 * so a push against thousands of rules reads one row and compiles nothing.
 */
final class RuleIndex {

    /** A rule as the index knows it. */
    record Entry(UUID uid, BuildRule.RefType type, RefPattern pattern) {
    }

    /** Which incarnation and version of a repository's rules an index holds. */
    record Version(Instant repositoryCreateTime, long rulesVersion) {
    }

    /** One ref type's rules. */
    private static final class Rules {
        final Map<String, List<UUID>> exact = new HashMap<>();
        final Map<String, List<Entry>> regexByPrefix = new HashMap<>();
        /** The distinct lengths of the keys of regexByPrefix, ascending: the only prefixes worth looking up. */
        int[] prefixLengths = new int[0];
    }

    final Version version;
    private final Map<BuildRule.RefType, Rules> byType = new EnumMap<>(BuildRule.RefType.class);

    RuleIndex(Version version, List<Entry> entries) {
        this.version = version;
        Map<BuildRule.RefType, TreeSet<Integer>> lengths = new EnumMap<>(BuildRule.RefType.class);
        for (Entry entry : entries) {
            Rules rules = byType.computeIfAbsent(entry.type(), t -> new Rules());
            if (entry.pattern().isRegex()) {
                String prefix = entry.pattern().literalPrefix();
                rules.regexByPrefix.computeIfAbsent(prefix, p -> new ArrayList<>()).add(entry);
                lengths.computeIfAbsent(entry.type(), t -> new TreeSet<>()).add(prefix.length());
            } else {
                rules.exact.computeIfAbsent(entry.pattern().source(), n -> new ArrayList<>()).add(entry.uid());
            }
        }
        lengths.forEach((type, set) -> byType.get(type).prefixLengths = set.stream().mapToInt(Integer::intValue).toArray());
    }

    static RuleIndex of(Version version, List<Object[]> rows, Function<String, RefPattern> compile) {
        List<Entry> entries = new ArrayList<>(rows.size());
        for (Object[] row : rows) {
            entries.add(new Entry((UUID) row[0], BuildRule.RefType.valueOf((String) row[1]), compile.apply((String) row[2])));
        }
        return new RuleIndex(version, entries);
    }

    /** Rules of this type matching the whole branch or tag name → their named groups' values. */
    Map<UUID, Map<String, String>> match(BuildRule.RefType type, String name) {
        Map<UUID, Map<String, String>> matched = new LinkedHashMap<>();
        Rules rules = byType.get(type);
        if (rules == null) {
            return matched;
        }
        rules.exact.getOrDefault(name, List.of()).forEach(uid -> matched.put(uid, Map.of()));
        for (Entry entry : candidates(rules, name)) {
            entry.pattern().match(name).ifPresent(groups -> matched.put(entry.uid(), groups));
        }
        return matched;
    }

    /** How many regexes a push of this name runs; what the prefix grouping saves is the rest. */
    int regexCandidates(BuildRule.RefType type, String name) {
        Rules rules = byType.get(type);
        return rules == null ? 0 : candidates(rules, name).size();
    }

    private static List<Entry> candidates(Rules rules, String name) {
        List<Entry> candidates = new ArrayList<>();
        for (int length : rules.prefixLengths) {
            if (length > name.length()) {
                break;
            }
            List<Entry> group = rules.regexByPrefix.get(name.substring(0, length));
            if (group != null) {
                candidates.addAll(group);
            }
        }
        return candidates;
    }
}
