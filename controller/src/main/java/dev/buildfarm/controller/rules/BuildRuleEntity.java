package dev.buildfarm.controller.rules;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/**
 * A build rule: repositories/{repositoryId}/rules/{ruleId}. The table's key is (repository_id, id);
 * the uid, unique too, is the entity's identity.
 */
@Entity
@Table(name = "build_rule")
public class BuildRuleEntity extends PanacheEntityBase {

    @Id
    public UUID uid;

    @Column(name = "repository_id")
    public String repositoryId;

    @Column(name = "id")
    public String ruleId;

    @Column(name = "ref_type")
    public String refType;

    @Column(name = "ref_pattern")
    public String refPattern;

    /** The normalised BuildRule as protobuf JSON (name, uid and times are columns). */
    @JdbcTypeCode(SqlTypes.JSON)
    public String spec;

    @Column(name = "create_time")
    public Instant createTime;

    @Column(name = "update_time")
    public Instant updateTime;

    public String name() {
        return RepositoryEntity.NAME_PREFIX + repositoryId + "/rules/" + ruleId;
    }
}
