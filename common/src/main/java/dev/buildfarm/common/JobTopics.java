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

    /**
     * The consumer group of a platform's agents: "buildfarm-agents-linux-amd64", or
     * "buildfarm-agents-linux-arm64-emulated" for those that run it under emulation.
     */
    public static String agentGroup(Platform platform, boolean emulated) {
        return "buildfarm-agents-" + platform.slug() + (emulated ? "-emulated" : "");
    }

    /** An agent's static member id (group.instance.id) in its platform's group: "agent-1-linux-amd64". */
    public static String agentMember(String agent, Platform platform) {
        return agent + "-" + platform.slug();
    }

    /** "buildfarm.events". */
    public static String events(String prefix) {
        return prefix + "events";
    }
}
