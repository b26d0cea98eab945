package dev.buildfarm.controller.dispatch;

import dev.buildfarm.controller.AfterCommit;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.transaction.TransactionSynchronizationRegistry;
import java.time.Clock;

/** Adds records to the outbox in the caller's transaction and wakes the relay once it commits. */
@ApplicationScoped
public class Outbox {

    @Inject
    Clock clock;

    @Inject
    OutboxRelay relay;

    @Inject
    TransactionSynchronizationRegistry transactions;

    public void add(String topic, String key, byte[] payload, String contentType) {
        OutboxRecord record = OutboxRecord.of(topic, key, payload, clock.instant());
        record.contentType = contentType;
        record.persist();
        AfterCommit.run(transactions, relay::poke);
    }
}
