package dev.buildfarm.controller.dispatch;

import io.quarkus.hibernate.orm.panache.PanacheEntityBase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.GeneratedValue;
import jakarta.persistence.GenerationType;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.time.Instant;

/** A Kafka record written in the same transaction as the state it announces. */
@Entity
@Table(name = "outbox")
public class OutboxRecord extends PanacheEntityBase {

    @Id
    @GeneratedValue(strategy = GenerationType.IDENTITY)
    public Long id;

    public String topic;

    @Column(name = "record_key")
    public String key;

    public byte[] payload;

    /** Sent as the record's content-type header when set (CloudEvents structured mode). */
    @Column(name = "content_type")
    public String contentType;

    @Column(name = "create_time")
    public Instant createTime;

    public static OutboxRecord of(String topic, String key, byte[] payload, Instant now) {
        OutboxRecord record = new OutboxRecord();
        record.topic = topic;
        record.key = key;
        record.payload = payload;
        record.createTime = now;
        return record;
    }
}
