package dev.buildfarm.controller.dispatch;

import dev.buildfarm.common.JobTopics;
import dev.buildfarm.common.Platform;
import java.nio.charset.StandardCharsets;
import io.quarkus.hibernate.orm.panache.Panache;
import io.quarkus.narayana.jta.QuarkusTransaction;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Sends outbox records to Kafka, in order, then deletes them. Woken right after a commit and
 * otherwise every second, so records written before a crash go out after the restart.
 * Rows are taken with SKIP LOCKED, so several controllers can relay side by side.
 */
@ApplicationScoped
public class OutboxRelay {

    private static final Logger LOG = Logger.getLogger(OutboxRelay.class);
    private static final int BATCH = 200;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "buildfarm.kafka.job-partitions")
    int jobPartitions;

    @ConfigProperty(name = "buildfarm.kafka.topic-prefix")
    String topicPrefix;

    private final Semaphore wakeUp = new Semaphore(0);
    private volatile boolean running;
    private Thread thread;
    private KafkaProducer<String, byte[]> producer;

    void start(@Observes StartupEvent event) {
        createTopics();
        Properties config = new Properties();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
        running = true;
        thread = new Thread(this::loop, "outbox-relay");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        wakeUp.release();
        if (thread != null) {
            try {
                thread.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (producer != null) {
            producer.close();
        }
    }

    /** Call after committing outbox records. */
    public void poke() {
        wakeUp.release();
    }

    private void createTopics() {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            List<NewTopic> topics = new ArrayList<>();
            for (Platform platform : Platform.SUPPORTED) {
                topics.add(new NewTopic(JobTopics.forPlatform(topicPrefix, platform), jobPartitions, (short) 1));
            }
            topics.add(new NewTopic(JobTopics.events(topicPrefix), jobPartitions, (short) 1));
            for (NewTopic topic : topics) {
                try {
                    admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
                    LOG.infof("created topic %s with %d partitions", topic.name(), topic.numPartitions());
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + topic.name(), e.getCause());
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka at " + bootstrapServers + " did not answer", e);
        }
    }

    private void loop() {
        while (running) {
            try {
                int sent = relayBatch();
                if (sent < BATCH) {
                    wakeUp.tryAcquire(1, TimeUnit.SECONDS);
                    wakeUp.drainPermits();
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                LOG.warnf("outbox relay: %s; retrying", e.toString());
                sleepQuietly();
            }
        }
    }

    @SuppressWarnings("unchecked")
    private int relayBatch() {
        return QuarkusTransaction.requiringNew().call(() -> {
            List<OutboxRecord> records = Panache.getEntityManager()
                    .createNativeQuery("select * from outbox order by id limit " + BATCH + " for update skip locked", OutboxRecord.class)
                    .getResultList();
            List<Future<RecordMetadata>> acks = new ArrayList<>();
            for (OutboxRecord record : records) {
                ProducerRecord<String, byte[]> out = new ProducerRecord<>(record.topic, record.key, record.payload);
                if (record.contentType != null) {
                    out.headers().add("content-type", record.contentType.getBytes(StandardCharsets.UTF_8));
                }
                acks.add(producer.send(out));
            }
            for (Future<RecordMetadata> ack : acks) {
                // Rows are deleted only when Kafka has every record of the batch.
                ack.get(30, TimeUnit.SECONDS);
            }
            records.forEach(OutboxRecord::delete);
            return records.size();
        });
    }

    private void sleepQuietly() {
        try {
            Thread.sleep(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
