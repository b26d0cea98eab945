package dev.buildfarm.controller.agent;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;
import org.hibernate.annotations.JdbcTypeCode;
import org.hibernate.type.SqlTypes;

/** A build host as it last reported itself. */
@Entity
@Table(name = "agent")
public class AgentEntity extends PanacheEntityBase {

    public static final String NAME_PREFIX = "agents/";

    @Id
    public String name;

    /** IDLE, BUSY or LOST. */
    public String state;

    /** JSON list of AgentPlatform (protobuf JSON). */
    @JdbcTypeCode(SqlTypes.JSON)
    public String platforms;

    @Column(name = "first_seen_time")
    public Instant firstSeenTime;

    @Column(name = "last_seen_time")
    public Instant lastSeenTime;
}
