package dev.buildfarm.controller.build;

import dev.buildfarm.api.v1.Trigger;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.CascadeType;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.OneToMany;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

@Entity
@Table(name = "build")
public class BuildEntity extends PanacheEntityBase {

    public static final String NAME_PREFIX = "builds/";

    @Id
    public UUID id;

    /** The namespace that owns the build: the first path component of its repository. */
    public String namespace;

    @Column(name = "request_id")
    public String requestId;

    @Enumerated(EnumType.STRING)
    public BuildState state;

    /** The normalised BuildSpec as protobuf JSON. */
    @JdbcTypeCode(SqlTypes.JSON)
    public String spec;

    public String repository;

    @Column(name = "commit_sha")
    public String commit;

    @Column(name = "index_digest")
    public String indexDigest;

    @Column(name = "failure_reason")
    public String failureReason;

    /** Platforms left out of an index published under the publish_partial policy, comma-separated. */
    @Column(name = "missing_platforms")
    public String missingPlatforms;

    /** The secret build arguments' values, sealed by {@link SecretBuildArgs}; null when there are none. */
    @Column(name = "sealed_secrets")
    public byte[] sealedSecrets;

    @Column(name = "log_bytes")
    public long logBytes;

    @Column(name = "log_truncated")
    public boolean logTruncated;

    @Enumerated(EnumType.STRING)
    @Column(name = "trigger_kind")
    public Trigger.Kind triggerKind;

    @Column(name = "trigger_rule")
    public String triggerRule;

    @Column(name = "trigger_ref")
    public String triggerRef;

    @Column(name = "trigger_event_id")
    public String triggerEventId;

    @Column(name = "trigger_event_time")
    public Instant triggerEventTime;

    @Column(name = "create_time")
    public Instant createTime;

    @Column(name = "update_time")
    public Instant updateTime;

    @Column(name = "end_time")
    public Instant endTime;

    @OneToMany(mappedBy = "build", cascade = CascadeType.PERSIST)
    public List<PlatformBuildEntity> platformBuilds = new ArrayList<>();

    public String name() {
        return NAME_PREFIX + id;
    }

    public static Optional<BuildEntity> findByRequestId(String namespace, String requestId) {
        return find("namespace = ?1 and requestId = ?2", namespace, requestId).firstResultOptional();
    }

    public void moveTo(BuildState next, Instant now) {
        state = next;
        updateTime = now;
        if (next.isFinal()) {
            endTime = now;
        }
    }
}
