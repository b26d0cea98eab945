package dev.buildfarm.controller.tenancy;

import dev.buildfarm.api.v1.Token;
import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** An API token: tokens/{id}. Its secret is never stored, only the secret's SHA-256. */
@Entity
@Table(name = "api_token")
public class TokenEntity extends PanacheEntityBase {

    public static final String NAME_PREFIX = "tokens/";

    @Id
    public String id;

    @Enumerated(EnumType.STRING)
    public Token.Kind kind;

    /** For tenant tokens. */
    public String namespace;

    /** For tenant tokens. */
    @Enumerated(EnumType.STRING)
    public Token.Role role;

    @Column(name = "secret_sha256")
    public String secretSha256;

    public String description;

    @Column(name = "create_time")
    public Instant createTime;

    @Column(name = "revoke_time")
    public Instant revokeTime;

    public String name() {
        return NAME_PREFIX + id;
    }
}
