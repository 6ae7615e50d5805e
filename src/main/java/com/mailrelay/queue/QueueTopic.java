package com.mailrelay.queue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import com.mailrelay.config.RelayProperties;
import jakarta.annotation.PostConstruct;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Creates the queue topic at start when it does not exist, with relay.queue-kafka.partitions
 * partitions: the partitions bound how many consumers, over all instances, deliver at once. An
 * existing topic is left as it is. A broker that cannot be reached is logged, not fatal: accepts
 * answer 503 / 451 until it is back.
 */
@Component
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class QueueTopic {

    private static final Logger log = LoggerFactory.getLogger(QueueTopic.class);

    private final RelayProperties.QueueKafka kafka;
    private final long maxRecordBytes;

    public QueueTopic(RelayProperties properties) {
        this.kafka = properties.queueKafka();
        this.maxRecordBytes = KafkaQueueRoutes.maxRecordBytes(properties);
    }

    @PostConstruct
    void create() {
        int timeout = (int) kafka.sendTimeout().toMillis();
        Map<String, Object> config = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.brokers(),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, timeout,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeout);
        Optional<Short> replicas = kafka.replicationFactor() == 0
                ? Optional.empty() : Optional.of((short) kafka.replicationFactor());
        try (Admin admin = Admin.create(config)) {
            // Records as large as the largest message (the broker's default limit is 1 MB).
            NewTopic topic = new NewTopic(kafka.topic(), Optional.of(kafka.partitions()), replicas)
                    .configs(Map.of("max.message.bytes", String.valueOf(maxRecordBytes)));
            admin.createTopics(List.of(topic))
                    .all().get(timeout, TimeUnit.MILLISECONDS);
            log.info("created the queue topic {} with {} partitions", kafka.topic(), kafka.partitions());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof TopicExistsException) {
                log.info("queue topic {} exists; it must allow records of {} bytes (max.message.bytes)",
                        kafka.topic(), maxRecordBytes);
            } else {
                log.warn("could not create the queue topic {}: {}", kafka.topic(), e.getCause().toString());
            }
        } catch (TimeoutException e) {
            log.warn("could not create the queue topic {}: no answer from {} within {} ms", kafka.topic(),
                    kafka.brokers(), timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
