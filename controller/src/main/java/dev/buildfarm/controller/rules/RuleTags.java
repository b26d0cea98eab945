package dev.buildfarm.controller.rules;

import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.TagConfig;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Renders a rule's image tags: {@code <template>[-<build time>][-<commit id>]}, each suffix joined
 * with '-', e.g. "${major}.${minor}.${version}" + yyyyMMddHHmm + commit on release-11-2-10 gives
 * "11.2.10-202010151613-3f2a9c".
 */
public final class RuleTags {

    /** The seed's zone for build times: UTC+8. */
    public static final ZoneId DEFAULT_ZONE = ZoneOffset.ofHours(8);
    public static final int DEFAULT_COMMIT_LENGTH = 6;
    public static final int MIN_COMMIT_LENGTH = 4;
    public static final int MAX_COMMIT_LENGTH = 40;
    public static final List<String> TIME_FORMATS = List.of("yyyyMMdd", "yyyyMMddHHmm");
    public static final String SEPARATOR = "-";

    /** OCI distribution spec tag grammar (as BuildSpecValidator checks it). */
    static final Pattern OCI_TAG = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");

    /** A rendered tag that cannot be pushed: the build is refused with this reason. */
    public static final class RenderException extends RuntimeException {
        RenderException(String message) {
            super(message);
        }
    }

    private RuleTags() {
    }

    /**
     * Tags for one firing of a normalised rule, duplicates dropped.
     *
     * @param groups values of the pattern's named groups for the matched ref
     * @param pushTime when the push happened; build-time suffixes come from it
     * @param commit the full commit id being built
     */
    public static List<String> render(BuildRule rule, Map<String, String> groups, Instant pushTime, String commit) {
        ZoneId zone = zone(rule.getTimeZone());
        Set<String> tags = new LinkedHashSet<>();
        for (int i = 0; i < rule.getTagsCount(); i++) {
            String tag = render(rule.getTags(i), zone, groups, pushTime, commit);
            if (!OCI_TAG.matcher(tag).matches()) {
                throw new RenderException("tags[" + i + "] rendered '" + abbreviate(tag) + "', which breaks the OCI tag grammar "
                        + "[A-Za-z0-9_][A-Za-z0-9._-]{0,127}");
            }
            tags.add(tag);
        }
        return List.copyOf(tags);
    }

    static String render(TagConfig config, ZoneId zone, Map<String, String> groups, Instant pushTime, String commit) {
        StringBuilder tag = new StringBuilder(TagTemplate.parse(config.getTemplate()).render(groups));
        if (!config.getBuildTimeFormat().isEmpty()) {
            tag.append(SEPARATOR).append(DateTimeFormatter.ofPattern(config.getBuildTimeFormat()).withZone(zone).format(pushTime));
        }
        if (config.getCommitIdSuffix()) {
            int length = config.getCommitIdLength() == 0 ? DEFAULT_COMMIT_LENGTH : config.getCommitIdLength();
            tag.append(SEPARATOR).append(commit, 0, Math.min(length, commit.length()));
        }
        return tag.toString();
    }

    /** "" means the default, UTC+8. */
    public static ZoneId zone(String timeZone) {
        return timeZone.isEmpty() ? DEFAULT_ZONE : ZoneId.of(timeZone);
    }

    private static String abbreviate(String value) {
        return value.length() <= 140 ? value : value.substring(0, 137) + "...";
    }
}
