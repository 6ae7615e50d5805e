package com.mailrelay.queue;

import java.time.Duration;

import com.mailrelay.config.RelayProperties;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * The Kafka queue ({@code relay.queue: kafka}).
 * <ul>
 * <li>{@code queue-publish}: accepted messages to the topic, keyed by workspace (a workspace's
 *     messages keep their order on one partition), acks=all, idempotent producer. The caller
 *     waits for the acknowledgement: the 202 / 250 means the broker has the message.</li>
 * <li>{@code queue-consume}: the consumer group of all relay instances. Each record is taken into
 *     the messages table (QueueIntake), delivered by {@code queue-deliver} — the same dispatch and
 *     outcome recording as {@code deliver} — and only then is its offset committed
 *     (autoCommitEnable=false with the synchronous commit manager). A failure to take it (database
 *     down) commits nothing and polls the record again (breakOnFirstError).</li>
 * </ul>
 * Retries and dead letters stay on the database schedule: a deferred message is claimed again by
 * {@code queue-poll}, which runs in Kafka mode too.
 */
@Component
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class KafkaQueueRoutes extends RouteBuilder {

    static final String PUBLISH = "direct:queue-publish";

    private final RelayProperties.QueueKafka kafka;
    private final boolean workers;
    private final long maxRecordBytes;

    /**
     * The largest record the queue must carry: a message of relay.max-message-size, base64 inside
     * JSON (4/3), plus its envelope and fields. Kafka's default (1 MB) would refuse any message
     * over ~780 KB.
     */
    static long maxRecordBytes(RelayProperties properties) {
        return properties.maxMessageSize().toBytes() / 3 * 4 + 1024 * 1024;
    }

    public KafkaQueueRoutes(RelayProperties properties) {
        if (properties.queueKafka().brokers() == null || properties.queueKafka().brokers().isBlank()) {
            throw new IllegalStateException("relay.queue is kafka, but relay.queue-kafka.brokers is not set");
        }
        this.kafka = properties.queueKafka();
        this.maxRecordBytes = maxRecordBytes(properties);
        this.workers = properties.worker().enabled();
    }

    @Override
    public void configure() {
        from(PUBLISH).routeId("queue-publish")
                .to(producerUri()).id("queue-kafka-producer");

        from(consumerUri()).routeId("queue-consume")
                .autoStartup(workers)
                .setBody(method("queueIntake", "take"))
                .filter(body().isNotNull())
                    .to("direct:queue-deliver")
                .end();

        from("direct:queue-deliver").routeId("queue-deliver")
                .routeConfigurationId(DeliveryRouteConfiguration.ID)
                .process(DeliveryRoutes::prepare)
                .to("direct:dispatch")
                .bean("deliveryOutcomes", "sent");
    }

    private String producerUri() {
        long timeout = kafka.sendTimeout().toMillis();
        // The whole send (metadata, retries, acknowledgement) is bounded by the timeout, so that a
        // broker outage turns into a 503 / 451 the client can retry, not a hanging session.
        return "kafka:" + kafka.topic() + "?brokers=" + kafka.brokers()
                + "&requestRequiredAcks=all&enableIdempotence=true"
                + "&valueSerializer=org.apache.kafka.common.serialization.ByteArraySerializer"
                + "&maxRequestSize=" + maxRecordBytes
                + "&maxBlockMs=" + timeout + "&deliveryTimeoutMs=" + timeout + "&requestTimeoutMs=" + timeout / 2;
    }

    private String consumerUri() {
        // Each record is delivered before the next poll: the poll interval must outlast a batch of slow upstreams.
        long pollInterval = Math.max(Duration.ofMinutes(5).toMillis(), kafka.maxPollRecords() * 60_000L);
        return "kafka:" + kafka.topic() + "?brokers=" + kafka.brokers()
                + "&groupId=" + kafka.groupId() + "&consumersCount=" + kafka.consumers()
                + "&autoOffsetReset=earliest&autoCommitEnable=false&allowManualCommit=true&breakOnFirstError=true"
                + "&kafkaManualCommitFactory=#class:org.apache.camel.component.kafka.consumer.DefaultKafkaManualCommitFactory"
                + "&maxPollRecords=" + kafka.maxPollRecords() + "&maxPollIntervalMs=" + pollInterval
                + "&maxPartitionFetchBytes=" + maxRecordBytes
                + "&valueDeserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer";
    }
}
