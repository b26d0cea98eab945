package dev.buildfarm.controller.tenancy;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A namespace's credential for one registry: namespaces/{namespace}/registryCredentials/{id}. */
@Entity
@Table(name = "registry_credential")
public class RegistryCredentialEntity extends PanacheEntityBase {

    public static final String COLLECTION = "/registryCredentials/";

    @Id
    public String id;

    public String namespace;

    public String registry;

    @Column(name = "repository_prefix")
    public String repositoryPrefix;

    public String username;

    /** {@link dev.buildfarm.controller.rules.SecretBox#seal} of the password. */
    @Column(name = "sealed_password")
    public String sealedPassword;

    @Column(name = "update_time")
    public Instant updateTime;

    public String name() {
        return NamespaceEntity.NAME_PREFIX + namespace + COLLECTION + id;
    }

    /** Without the sealed password. */
    @Override
    public String toString() {
        return name() + " (" + registry + (repositoryPrefix.isEmpty() ? "" : " " + repositoryPrefix) + ", user " + username + ")";
    }
}
