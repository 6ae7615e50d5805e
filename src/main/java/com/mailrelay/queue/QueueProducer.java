package com.mailrelay.queue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.store.QueueStore;
import jakarta.annotation.PreDestroy;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Produces the records of one accepted message to the queue topic in one Kafka transaction: the
 * consumers read with isolation.level=read_committed, so they see every record of the message or
 * none of them — never the first copies of a personalised message whose third copy failed.
 * <p>
 * Why not camel-kafka's {@code transactionalId}: that endpoint has one KafkaProducer for all its
 * exchanges and begins a transaction per exchange on it. A producer carries one transaction at a
 * time, so two accepts at once (two HTTP threads, two SMTP sessions) would either fail with an
 * illegal state or commit each other's records. Here a small pool of transactional producers
 * (relay.queue-kafka.producers) gives each accept a producer of its own for its transaction.
 * <p>
 * Producers are created on first use (the relay starts, and answers 503 / 451, while the broker is
 * down). One whose state is unknown after a failure (fenced, or timed out in the middle of a
 * commit) is closed and replaced; any other failure aborts its transaction.
 */
@Component
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class QueueProducer {

    private static final Logger log = LoggerFactory.getLogger(QueueProducer.class);

    private final RelayProperties.QueueKafka kafka;
    private final long maxRecordBytes;
    private final String transactionalIdPrefix;
    private final BlockingQueue<Slot> idle;

    public QueueProducer(RelayProperties properties, QueueStore store) {
        this.kafka = properties.queueKafka();
        this.maxRecordBytes = KafkaQueueRoutes.maxRecordBytes(properties);
        // Unique per running instance and slot: two live producers with one id would fence each other.
        this.transactionalIdPrefix = "relay-queue-" + store.instanceId() + "-";
        this.idle = new ArrayBlockingQueue<>(kafka.producers());
        for (int i = 0; i < kafka.producers(); i++) {
            idle.add(new Slot(transactionalIdPrefix + i));
        }
    }

    /**
     * Produces {@code values}, keyed {@code key}, in one transaction, and returns once it is
     * committed. Any exception means the transaction was not committed by this call: it was
     * aborted, or — only when the send-timeout ran out while the commit itself was under way — its
     * outcome is the broker's (committed whole, or aborted whole).
     */
    public void send(String key, List<byte[]> values) {
        Duration timeout = kafka.sendTimeout();
        Slot slot;
        try {
            slot = idle.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a queue producer", e);
        }
        if (slot == null) {
            throw new IllegalStateException("all " + kafka.producers() + " queue producers stayed busy for "
                    + timeout.toMillis() + " ms (relay.queue-kafka.producers, send-timeout)");
        }
        try {
            slot.send(key, values);
        } finally {
            idle.add(slot);
        }
    }

    @PreDestroy
    void close() {
        idle.forEach(Slot::close);
    }

    private Map<String, Object> config(String transactionalId) {
        long timeout = kafka.sendTimeout().toMillis();
        return Map.ofEntries(
                Map.entry(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.brokers()),
                Map.entry(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId),
                Map.entry(ProducerConfig.ACKS_CONFIG, "all"),
                Map.entry(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true),
                Map.entry(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, (int) maxRecordBytes),
                // Each blocking step (metadata, initTransactions, commit) and each record's
                // delivery is bounded by the send-timeout: a broker outage is a 503 / 451.
                Map.entry(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout),
                Map.entry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) timeout),
                Map.entry(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) (timeout / 2)),
                Map.entry(ProducerConfig.LINGER_MS_CONFIG, 0),
                // A transaction left open by an instance that died holds back the read_committed
                // consumers of its partition until the broker aborts it: keep that short.
                Map.entry(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, (int) Math.max(3 * timeout, 10_000)));
    }

    /** One transactional producer of the pool, created on first use and after a fatal failure. */
    private final class Slot {

        private final String transactionalId;
        private KafkaProducer<String, byte[]> producer;

        Slot(String transactionalId) {
            this.transactionalId = transactionalId;
        }

        void send(String key, List<byte[]> values) {
            KafkaProducer<String, byte[]> open = open();
            try {
                open.beginTransaction();
                for (byte[] value : values) {
                    open.send(new ProducerRecord<>(kafka.topic(), key, value));
                }
                // Flushes every record first; throws if any of them failed.
                open.commitTransaction();
            } catch (ProducerFencedException | OutOfOrderSequenceException | AuthorizationException
                     | TimeoutException unknown) {
                // Fenced or fatal: the producer is unusable. Timed out: a commit may be under way,
                // and an abort now would be refused; the broker finishes or times it out.
                log.warn("queue producer {} failed ({}); replacing it", transactionalId, unknown.toString());
                close();
                throw new IllegalStateException("the queue topic did not take the message: " + unknown, unknown);
            } catch (KafkaException failed) {
                abort(failed);
                throw new IllegalStateException("the queue topic did not take the message: " + failed, failed);
            }
        }

        private KafkaProducer<String, byte[]> open() {
            if (producer == null) {
                KafkaProducer<String, byte[]> created = new KafkaProducer<>(config(transactionalId),
                        new StringSerializer(), new ByteArraySerializer());
                try {
                    // Also aborts what an earlier producer with this id left open.
                    created.initTransactions();
                } catch (KafkaException e) {
                    created.close(Duration.ZERO);
                    throw new IllegalStateException("the queue topic did not take the message: " + e, e);
                }
                producer = created;
            }
            return producer;
        }

        private void abort(KafkaException cause) {
            try {
                producer.abortTransaction();
                log.info("queue producer {}: transaction aborted ({})", transactionalId, cause.toString());
            } catch (KafkaException e) {
                log.warn("queue producer {}: abort failed ({}); replacing it", transactionalId, e.toString());
                close();
            }
        }

        void close() {
            if (producer != null) {
                try {
                    producer.close(kafka.sendTimeout());
                } catch (KafkaException e) {
                    log.debug("closing queue producer {}: {}", transactionalId, e.toString());
                }
                producer = null;
            }
        }
    }
}
