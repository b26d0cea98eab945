package dev.buildfarm.controller.events;

import dev.buildfarm.api.v1.BuildEvent;
import dev.buildfarm.common.JobTopics;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Serves WatchBuilds from the buildfarm.events topic, so every controller shows every event in the
 * topic's per-build order. One consumer per controller fans out to the watchers; each watcher has a
 * bounded backlog and is closed with RESOURCE_EXHAUSTED if it stops reading, instead of holding memory.
 */
@ApplicationScoped
public class EventHub {

    private static final Logger LOG = Logger.getLogger(EventHub.class);
    static final int MAX_BACKLOG = 1_000;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrapServers;

    @ConfigProperty(name = "buildfarm.kafka.topic-prefix")
    String topicPrefix;

    private final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile boolean running;

    /** One watcher: its filter, its stream, and the events its stream was not ready for. */
    private final class Watcher {
        final String subject;
        final Predicate<BuildEvent> visible;
        final ServerCallStreamObserver<BuildEvent> observer;
        final ArrayDeque<BuildEvent> backlog = new ArrayDeque<>();

        Watcher(String subject, Predicate<BuildEvent> visible, ServerCallStreamObserver<BuildEvent> observer) {
            this.subject = subject;
            this.visible = visible;
            this.observer = observer;
        }

        synchronized void offer(BuildEvent event) {
            if ((!subject.isEmpty() && !subject.equals(event.getSubject())) || !visible.test(event)) {
                return;
            }
            backlog.add(event);
            if (backlog.size() > MAX_BACKLOG) {
                watchers.remove(this);
                backlog.clear();
                observer.onError(Status.RESOURCE_EXHAUSTED
                        .withDescription("the watcher fell more than " + MAX_BACKLOG + " events behind; reconnect")
                        .asRuntimeException());
                return;
            }
            drain();
        }

        synchronized void drain() {
            while (!backlog.isEmpty() && observer.isReady() && !observer.isCancelled()) {
                observer.onNext(backlog.poll());
            }
        }
    }

    private final Set<Consumer<BuildEvent>> listeners = ConcurrentHashMap.newKeySet();

    /**
     * Every event, in the order read, to an in-process listener (the dashboard's event stream); it
     * must not block. Returns what stops the listening.
     */
    public Runnable listen(Consumer<BuildEvent> listener) {
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    /** Streams the events of {@code subject} (every subject when empty) that {@code visible} lets through. */
    public void watch(String subject, Predicate<BuildEvent> visible, ServerCallStreamObserver<BuildEvent> observer) {
        Watcher watcher = new Watcher(subject, visible, observer);
        observer.setOnCancelHandler(() -> watchers.remove(watcher));
        observer.setOnReadyHandler(watcher::drain);
        watchers.add(watcher);
    }

    void start(@Observes StartupEvent event) {
        Properties config = new Properties();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "controller-events-" + UUID.randomUUID());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
        running = true;
        Thread thread = new Thread(this::loop, "event-hub");
        thread.setDaemon(true);
        thread.start();
    }

    void stop(@Observes ShutdownEvent event) {
        running = false;
        if (consumer != null) {
            consumer.wakeup();
        }
    }

    private void loop() {
        try {
            // No group: every controller reads every partition, from now on.
            List<TopicPartition> partitions = List.of();
            while (running && partitions.isEmpty()) {
                // The relay creates the topic at start-up; wait for it rather than race it.
                partitions = consumer.partitionsFor(JobTopics.events(topicPrefix)).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                if (partitions.isEmpty()) {
                    Thread.sleep(500);
                }
            }
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    BuildEvent parsed;
                    try {
                        parsed = BuildEvents.parse(record.value());
                    } catch (Exception e) {
                        LOG.warnf("skipping an unreadable event at %s-%d@%d", record.topic(), record.partition(), record.offset());
                        continue;
                    }
                    watchers.forEach(w -> w.offer(parsed));
                    for (Consumer<BuildEvent> listener : listeners) {
                        try {
                            listener.accept(parsed);
                        } catch (RuntimeException e) {
                            LOG.debugf(e, "an event listener failed; dropping it");
                            listeners.remove(listener);
                        }
                    }
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // shutting down
        } catch (RuntimeException e) {
            LOG.error("event hub stopped", e);
        } finally {
            consumer.close();
        }
    }
}
