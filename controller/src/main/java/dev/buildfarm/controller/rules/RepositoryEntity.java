package dev.buildfarm.controller.rules;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** An image repository bound to a git source: repositories/{id}. */
@Entity
@Table(name = "source_repository")
public class RepositoryEntity extends PanacheEntityBase {

    public static final String NAME_PREFIX = "repositories/";

    @Id
    public String id;

    public String image;

    /** The namespace owning the repository (and its rules): the first path component of its image. */
    public String namespace;

    @Column(name = "source_url")
    public String sourceUrl;

    /** Sealed by SecretBox; null when unset. */
    @Column(name = "webhook_secret")
    public String webhookSecret;

    /** Sealed "username\npassword"; null when unset. */
    public String credentials;

    @Column(name = "auto_build")
    public boolean autoBuild;

    /**
     * Bumped with every change to the repository's rules (see RuleIndex), by SQL only: never written
     * back from an entity, so saving a repository cannot undo a concurrent bump.
     */
    @Column(name = "rules_version", updatable = false)
    public long rulesVersion;

    @Column(name = "last_poll_time")
    public Instant lastPollTime;

    @Column(name = "create_time")
    public Instant createTime;

    @Column(name = "update_time")
    public Instant updateTime;

    public String name() {
        return NAME_PREFIX + id;
    }
}
