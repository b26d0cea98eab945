package dev.buildfarm.controller.build;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.buildfarm.api.v1.BuildSpec;
import dev.buildfarm.controller.rules.SecretBox;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.Map;

/**
 * A spec's secret build arguments are kept apart from it: the spec that is stored, answered, put in
 * events and sent on Kafka holds each key with {@link #MASK}; the values are sealed into one column
 * of the build and opened only for the agent that claims a job.
 */
@ApplicationScoped
public class SecretBuildArgs {

    /** What every copy of the spec shows instead of a secret value. */
    public static final String MASK = "****";

    @Inject
    SecretBox box;

    /** The spec with every secret value replaced by the mask. */
    public static BuildSpec masked(BuildSpec spec) {
        if (spec.getSecretBuildArgsCount() == 0) {
            return spec;
        }
        BuildSpec.Builder out = spec.toBuilder();
        spec.getSecretBuildArgsMap().keySet().forEach(key -> out.putSecretBuildArgs(key, MASK));
        return out.build();
    }

    /** The values, encrypted; null when there are none. */
    public byte[] seal(Map<String, String> values) {
        if (values.isEmpty()) {
            return null;
        }
        // A spec holding only the map is a ready-made, versionable encoding of it.
        return box.sealBytes(BuildSpec.newBuilder().putAllSecretBuildArgs(values).build().toByteArray());
    }

    public Map<String, String> open(byte[] sealed) {
        if (sealed == null) {
            return Map.of();
        }
        try {
            return BuildSpec.parseFrom(box.openBytes(sealed)).getSecretBuildArgsMap();
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("sealed secret build arguments are unreadable", e);
        }
    }
}
