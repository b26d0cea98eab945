package dev.buildfarm.controller.tenancy;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A namespace tokens can act in: namespaces/{id}. */
@Entity
@Table(name = "tenant_namespace")
public class NamespaceEntity extends PanacheEntityBase {

    public static final String NAME_PREFIX = "namespaces/";

    @Id
    public String id;

    @Column(name = "create_time")
    public Instant createTime;
}
