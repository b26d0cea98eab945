package dev.buildfarm.common;


/** Kafka topic names: one job topic per platform, so each platform's agents form one group. */
public final class JobTopics {

    public static final String PREFIX = "buildfarm.jobs.";

    private JobTopics() {
    }

    public static String forPlatform(Platform platform) {
        return PREFIX + platform.slug();
    }
}
