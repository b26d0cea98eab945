package dev.buildfarm.controller.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.buildfarm.api.v1.AgentPlatform;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * A lost agent taken out of its consumer groups, against the real broker: a static member that
 * would otherwise hold its partitions for its whole session is gone from the group at once.
 */
class AgentGroupsTest {

    private static final String KAFKA = "127.0.0.1:9092";
    private static final String PREFIX = System.getenv().getOrDefault("BUILDFARM_TEST_TOPIC_PREFIX", "buildfarm-test.");

    @Test
    void theGroupsOfAnAgentAreThoseOfEachPlatformItAdvertised() {
        Map<String, List<String>> members = AgentGroups.membersOf("agent-1", List.of(
                AgentPlatform.newBuilder().setPlatform("linux/amd64").build(),
                AgentPlatform.newBuilder().setPlatform("linux/arm64").setEmulated(true).build(),
                AgentPlatform.newBuilder().setPlatform("linux/arm/v7").setEmulated(true).build()));
        // The names the agents' consumers use (JobConsumer, through JobTopics).
        assertThat(members).containsExactly(
                Map.entry("buildfarm-agents-linux-amd64", List.of("agent-1-linux-amd64")),
                Map.entry("buildfarm-agents-linux-arm64-emulated", List.of("agent-1-linux-arm64")),
                Map.entry("buildfarm-agents-linux-arm-v7-emulated", List.of("agent-1-linux-arm-v7")));
    }

    @Test
    void aStaticMemberIsRemovedBeforeItsSessionEnds() throws Exception {
        // A group of this test's own: the farm's agent groups on the shared broker are left alone.
        String group = PREFIX + "agent-groups-" + UUID.randomUUID();
        String member = "agent-groups-test-linux-amd64";
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG, member);
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, 60_000);
        AgentGroups groups = new AgentGroups();
        groups.bootstrapServers = KAFKA;
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", KAFKA));
             KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.subscribe(List.of(PREFIX + "jobs.linux-amd64"));
            Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                consumer.poll(Duration.ofMillis(200));
                return instanceIds(admin, group).contains(member);
            });

            // The consumer stops polling, as a dead agent would; its session (60 s) would hold it in.
            assertThat(groups.remove(group, List.of(member))).isTrue();
            assertThat(instanceIds(admin, group)).doesNotContain(member);
            // Removing it again (a second disconnect, or its session ended meanwhile) is not an error.
            assertThat(groups.remove(group, List.of(member))).isTrue();
        } finally {
            groups.stop();
        }
    }

    private static List<String> instanceIds(Admin admin, String group) throws Exception {
        ConsumerGroupDescription description = admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        return description.members().stream().map(MemberDescription::groupInstanceId).flatMap(java.util.Optional::stream).toList();
    }
}
