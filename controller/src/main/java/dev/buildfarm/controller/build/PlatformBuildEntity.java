package dev.buildfarm.controller.build;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.JoinColumn;
import jakarta.persistence.ManyToOne;
import jakarta.persistence.Table;
import java.time.Instant;
import java.util.UUID;

/** One platform of a build: the unit an agent claims, builds and reports on. */
@Entity
@Table(name = "platform_build")
public class PlatformBuildEntity extends PanacheEntityBase {

    @Id
    public UUID id;

    @ManyToOne(optional = false)
    @JoinColumn(name = "build_id")
    public BuildEntity build;

    public String platform;

    @Enumerated(EnumType.STRING)
    public BuildState state;

    /** 0 until claimed; each claim starts a new attempt. */
    public int attempt;

    public String agent;

    public boolean emulated;

    public String digest;

    /** Where the agent pushed the image (its staging repository). */
    @Column(name = "pushed_repository")
    public String pushedRepository;

    @Column(name = "failure_reason")
    public String failureReason;

    /** Offset the next log line of this platform gets. */
    @Column(name = "log_lines")
    public long logLines;

    /** Last log sequence stored for the current attempt; resent lines at or below it are dropped. */
    @Column(name = "log_sequence")
    public long logSequence;

    /** Attempts made before the last RetryBuild; lost-agent retries are counted from here. */
    @Column(name = "attempts_before_retry")
    public int attemptsBeforeRetry;

    @Column(name = "lease_expire_time")
    public Instant leaseExpireTime;

    @Column(name = "create_time")
    public Instant createTime;

    /** When the job was admitted (written to its Kafka topic); null while it waits under the admission limits. */
    @Column(name = "admit_time")
    public Instant admitTime;

    @Column(name = "start_time")
    public Instant startTime;

    @Column(name = "end_time")
    public Instant endTime;

    public void moveTo(BuildState next, Instant now) {
        state = next;
        if (next == BuildState.RUNNING) {
            startTime = now;
        }
        if (next.isFinal()) {
            endTime = now;
            leaseExpireTime = null;
        }
    }
}
