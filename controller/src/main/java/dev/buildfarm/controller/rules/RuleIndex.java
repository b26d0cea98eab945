package dev.buildfarm.controller.rules;

import dev.buildfarm.api.v1.BuildRule;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;

/**
 * One repository's rules, compiled for matching a pushed ref: exact names by hash, regular
 * expressions in a list. Kept in memory per repository and rebuilt when the repository's
 * rules_version (bumped in every rule change's transaction) differs, so a push against thousands of
 * rules reads one row and compiles nothing.
 */
final class RuleIndex {

    /** A rule as the index knows it. */
    record Entry(UUID uid, BuildRule.RefType type, RefPattern pattern) {
    }

    /** Which incarnation and version of a repository's rules an index holds. */
    record Version(Instant repositoryCreateTime, long rulesVersion) {
    }

    final Version version;
    private final Map<BuildRule.RefType, Map<String, List<UUID>>> exact = new EnumMap<>(BuildRule.RefType.class);
    private final Map<BuildRule.RefType, List<Entry>> regex = new EnumMap<>(BuildRule.RefType.class);

    RuleIndex(Version version, List<Entry> entries) {
        this.version = version;
        for (Entry entry : entries) {
            if (entry.pattern().isRegex()) {
                regex.computeIfAbsent(entry.type(), t -> new ArrayList<>()).add(entry);
            } else {
                exact.computeIfAbsent(entry.type(), t -> new HashMap<>())
                        .computeIfAbsent(entry.pattern().source(), n -> new ArrayList<>()).add(entry.uid());
            }
        }
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
        exact.getOrDefault(type, Map.of()).getOrDefault(name, List.of()).forEach(uid -> matched.put(uid, Map.of()));
        for (Entry entry : regex.getOrDefault(type, List.of())) {
            entry.pattern().match(name).ifPresent(groups -> matched.put(entry.uid(), groups));
        }
        return matched;
    }
}
