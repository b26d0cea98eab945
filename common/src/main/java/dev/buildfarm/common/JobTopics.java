package dev.buildfarm.common;

/**
 * Kafka topic names: one job topic per platform, so each platform's agents form one group, and one
 * events topic. All share a prefix ("buildfarm." by default) so test runs can keep to their own.
 */
public final class JobTopics {

    public static final String DEFAULT_PREFIX = "buildfarm.";

    private JobTopics() {
    }

    /** "buildfarm.jobs.linux-arm-v7". */
    public static String forPlatform(String prefix, Platform platform) {
        return prefix + "jobs." + platform.slug();
    }

    public static String forPlatform(Platform platform) {
        return forPlatform(DEFAULT_PREFIX, platform);
    }

    /** "buildfarm.events". */
    public static String events(String prefix) {
        return prefix + "events";
    }
}
