package dev.buildfarm.controller.build;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.buildfarm.api.v1.Build;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.api.v1.PlatformBuild;
import dev.buildfarm.api.v1.Trigger;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;

/** Stored rows to API messages. */
public final class BuildMapper {

    private BuildMapper() {
    }

    public static String specToJson(BuildSpec spec) {
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print(spec);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    public static BuildSpec specFromJson(String json) {
        BuildSpec.Builder spec = BuildSpec.newBuilder();
        try {
            JsonFormat.parser().merge(json, spec);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("stored spec is not a BuildSpec", e);
        }
        return spec.build();
    }

    public static Build toProto(BuildEntity build) {
        Build.Builder out = Build.newBuilder()
                .setName(build.name())
                .setSpec(specFromJson(build.spec))
                .setState(build.state.toProto())
                .setCommit(build.commit)
                .setIndexDigest(nullToEmpty(build.indexDigest))
                .setFailureReason(nullToEmpty(build.failureReason))
                .setRequestId(nullToEmpty(build.requestId))
                .setNamespace(build.namespace)
                .setCreateTime(timestamp(build.createTime))
                .setUpdateTime(timestamp(build.updateTime));
        if (build.endTime != null) {
            out.setEndTime(timestamp(build.endTime));
        }
        if (build.missingPlatforms != null && !build.missingPlatforms.isEmpty()) {
            out.addAllMissingPlatforms(List.of(build.missingPlatforms.split(",")));
        }
        Trigger.Builder trigger = out.getTriggerBuilder().setKind(build.triggerKind)
                .setRule(nullToEmpty(build.triggerRule))
                .setRef(nullToEmpty(build.triggerRef))
                .setEventId(nullToEmpty(build.triggerEventId));
        if (build.triggerEventTime != null) {
            trigger.setEventTime(timestamp(build.triggerEventTime));
        }
        // In the order of the spec, which is the farm's fixed platform order.
        List<String> order = out.getSpec().getPlatformsList();
        build.platformBuilds.stream()
                .sorted(Comparator.comparingInt(pb -> order.indexOf(pb.platform)))
                .forEach(pb -> out.addPlatformBuilds(toProto(pb)));
        return out.build();
    }

    public static PlatformBuild toProto(PlatformBuildEntity pb) {
        PlatformBuild.Builder out = PlatformBuild.newBuilder()
                .setPlatform(pb.platform)
                .setState(pb.state.toProto())
                .setDigest(nullToEmpty(pb.digest))
                .setAgent(nullToEmpty(pb.agent))
                .setEmulated(pb.emulated)
                .setAttempt(pb.attempt)
                .setFailureReason(nullToEmpty(pb.failureReason))
                .setCreateTime(timestamp(pb.createTime));
        if (pb.startTime != null) {
            out.setStartTime(timestamp(pb.startTime));
        }
        if (pb.endTime != null) {
            out.setEndTime(timestamp(pb.endTime));
        }
        return out.build();
    }

    public static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    private static String nullToEmpty(String value) {
        return value == null ? "" : value;
    }
}
