package dev.buildfarm.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A plain consumer of every platform's job topic, from their end offsets (no group, nothing
 * committed): notes when each record arrived, by key (the build name), so a benchmark can ask when
 * all of a build's platform jobs were on Kafka.
 */
final class JobTopicWatcher implements AutoCloseable {

    static final List<String> PLATFORM_SLUGS = List.of("linux-amd64", "linux-arm64", "linux-arm-v7", "linux-arm-v6");

    /** One job record as seen: where it is, System.nanoTime() when poll returned it, and its Kafka timestamp (ms). */
    record Seen(String key, TopicPartition partition, long offset, long receivedNanos, long recordTimestampMillis) {
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, List<Seen>> byKey = new ConcurrentHashMap<>();
    private final List<Seen> all = new ArrayList<>();
    private final Map<TopicPartition, Long> startPositions = new HashMap<>();
    private final Thread thread;
    private volatile boolean running = true;
    private volatile Throwable failure;

    JobTopicWatcher(String bootstrapServers, String topicPrefix) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, 1);
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 100);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-job-watcher");
        consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String slug : PLATFORM_SLUGS) {
            String topic = topicPrefix + "jobs." + slug;
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(p -> partitions.add(new TopicPartition(p.topic(), p.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        // Resolve the end offsets now, so nothing sent after this constructor returns is missed.
        partitions.forEach(p -> startPositions.put(p, consumer.position(p, Duration.ofSeconds(30))));
        thread = new Thread(this::loop, "job-topic-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        try {
            while (running) {
                var records = consumer.poll(Duration.ofMillis(200));
                long now = System.nanoTime();
                for (ConsumerRecord<String, byte[]> record : records) {
                    Seen seen = new Seen(record.key(), new TopicPartition(record.topic(), record.partition()), record.offset(),
                            now, record.timestamp());
                    synchronized (all) {
                        all.add(seen);
                    }
                    if (record.key() != null) {
                        byKey.computeIfAbsent(record.key(), k -> new CopyOnWriteArrayList<>()).add(seen);
                    }
                }
                if (!records.isEmpty()) {
                    synchronized (this) {
                        notifyAll();
                    }
                }
            }
        } catch (WakeupException e) {
            // close()
        } catch (Throwable t) {
            failure = t;
        } finally {
            synchronized (this) {
                notifyAll();
            }
            consumer.close(Duration.ofSeconds(5));
        }
    }

    /** Waits until `count` records with this key arrived; answers them, or throws after the limit. */
    List<Seen> await(String key, int count, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (failure != null) {
                throw new IllegalStateException("the job topic consumer failed", failure);
            }
            List<Seen> seen = byKey.get(key);
            if (seen != null && seen.size() >= count) {
                return List.copyOf(seen);
            }
            // Arrival times are taken on the consumer thread; this wait only decides when to look again.
            synchronized (this) {
                wait(50);
            }
        }
        throw new IllegalStateException("no " + count + " job record(s) keyed " + key + " on Kafka within " + limit);
    }

    /** Every record seen so far, in the order they arrived. */
    List<Seen> all() {
        synchronized (all) {
            return new ArrayList<>(all);
        }
    }

    /** Where each partition's end was when this watcher started: records from there on are seen. */
    Map<TopicPartition, Long> startPositions() {
        return Map.copyOf(startPositions);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        thread.join(10_000);
    }
}
