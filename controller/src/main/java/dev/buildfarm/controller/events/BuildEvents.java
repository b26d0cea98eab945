package dev.buildfarm.controller.events;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import dev.buildfarm.api.v1.Agent;
import dev.buildfarm.api.v1.BuildEvent;
import dev.buildfarm.common.JobTopics;
import dev.buildfarm.controller.build.BuildEntity;
import dev.buildfarm.controller.build.BuildMapper;
import dev.buildfarm.controller.build.PlatformBuildEntity;
import dev.buildfarm.controller.dispatch.Outbox;
import io.cloudevents.CloudEvent;
import io.cloudevents.core.builder.CloudEventBuilder;
import io.cloudevents.core.format.EventFormat;
import io.cloudevents.core.provider.EventFormatProvider;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Announces state changes as CloudEvents 1.0 (structured JSON) on Kafka topic buildfarm.events,
 * keyed by build so one build's events stay in order. Events go through the outbox, in the
 * transaction of the change they announce: no event for a change that rolled back, none lost.
 */
@ApplicationScoped
public class BuildEvents {

    public static final URI SOURCE = URI.create("/buildfarm/controller");
    private static final EventFormat FORMAT =
            EventFormatProvider.getInstance().resolveFormat(io.cloudevents.jackson.JsonFormat.CONTENT_TYPE);

    @Inject
    Clock clock;

    @Inject
    Outbox outbox;

    @ConfigProperty(name = "buildfarm.kafka.topic-prefix")
    String topicPrefix;

    /** "dev.buildfarm.build.running.v1". */
    public static String buildType(BuildEntity build) {
        return "dev.buildfarm.build." + build.state.name().toLowerCase(Locale.ROOT) + ".v1";
    }

    /** "dev.buildfarm.platform_build.succeeded.v1". */
    public static String platformType(PlatformBuildEntity pb) {
        return "dev.buildfarm.platform_build." + pb.state.name().toLowerCase(Locale.ROOT) + ".v1";
    }

    public void buildChanged(BuildEntity build) {
        record(build, buildType(build), "");
    }

    public void platformChanged(PlatformBuildEntity pb) {
        record(pb.build, platformType(pb), pb.platform);
    }

    /** "dev.buildfarm.agent.lost.v1", subject "agents/{agent}". */
    public void agentChanged(Agent agent) {
        Instant now = clock.instant();
        String type = "dev.buildfarm.agent." + agent.getState().name().toLowerCase(Locale.ROOT) + ".v1";
        publish(BuildEvent.newBuilder().setId(UUID.randomUUID().toString()).setType(type)
                .setSubject(agent.getName()).setTime(BuildMapper.timestamp(now)).setAgent(agent).build(), now);
    }

    private void record(BuildEntity build, String type, String platform) {
        Instant now = clock.instant();
        publish(BuildEvent.newBuilder()
                .setId(UUID.randomUUID().toString())
                .setType(type)
                .setSubject(build.name())
                .setTime(BuildMapper.timestamp(now))
                .setBuild(BuildMapper.toProto(build))
                .setPlatform(platform)
                .build(), now);
    }

    private void publish(BuildEvent event, Instant now) {
        CloudEvent cloudEvent = CloudEventBuilder.v1()
                .withId(event.getId())
                .withSource(SOURCE)
                .withType(event.getType())
                .withSubject(event.getSubject())
                .withTime(now.atOffset(ZoneOffset.UTC))
                .withDataContentType("application/json")
                .withData(toJson(event).getBytes(StandardCharsets.UTF_8))
                .build();
        outbox.add(JobTopics.events(topicPrefix), event.getSubject(), FORMAT.serialize(cloudEvent), FORMAT.serializedContentType());
    }

    static String toJson(BuildEvent event) {
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print(event);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads a CloudEvent from the topic back into the event it carries. */
    public static BuildEvent parse(byte[] cloudEvent) throws InvalidProtocolBufferException {
        CloudEvent event = FORMAT.deserialize(cloudEvent);
        BuildEvent.Builder out = BuildEvent.newBuilder();
        JsonFormat.parser().ignoringUnknownFields().merge(new String(event.getData().toBytes(), StandardCharsets.UTF_8), out);
        return out.build();
    }
}
