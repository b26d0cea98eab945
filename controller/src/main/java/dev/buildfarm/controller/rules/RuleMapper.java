package dev.buildfarm.controller.rules;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import dev.buildfarm.api.v1.BuildRule;
import dev.buildfarm.api.v1.Repository;
import dev.buildfarm.api.v1.SourceBinding;
import java.time.Instant;

/** Stored rows to API messages; secrets never leave as anything but "is set". */
public final class RuleMapper {

    public static final String WEBHOOK_PATH_PREFIX = "/webhooks/";

    private RuleMapper() {
    }

    public static Repository toProto(RepositoryEntity entity) {
        return Repository.newBuilder()
                .setName(entity.name())
                .setImage(entity.image)
                .setNamespace(entity.namespace)
                .setSource(SourceBinding.newBuilder()
                        .setUrl(entity.sourceUrl)
                        .setWebhookSecretSet(entity.webhookSecret != null)
                        .setCredentialsSet(entity.credentials != null))
                .setAutoBuild(entity.autoBuild)
                .setWebhookPath(WEBHOOK_PATH_PREFIX + entity.id)
                .setCreateTime(timestamp(entity.createTime))
                .setUpdateTime(timestamp(entity.updateTime))
                .build();
    }

    public static BuildRule toProto(BuildRuleEntity entity) {
        BuildRule spec = ruleFromJson(entity.spec);
        return spec.toBuilder()
                .setName(entity.name())
                .setUid(entity.uid.toString())
                .setSystemTriggerOnly(!RuleValidator.systemTriggerReasons(spec).isEmpty())
                .setCreateTime(timestamp(entity.createTime))
                .setUpdateTime(timestamp(entity.updateTime))
                .build();
    }

    public static String ruleToJson(BuildRule rule) {
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print(rule);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    public static BuildRule ruleFromJson(String json) {
        BuildRule.Builder rule = BuildRule.newBuilder();
        try {
            JsonFormat.parser().merge(json, rule);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException("stored rule is not a BuildRule", e);
        }
        return rule.build();
    }

    static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }
}
