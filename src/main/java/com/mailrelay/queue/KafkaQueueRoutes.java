package com.mailrelay.queue;

import java.time.Duration;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.config.StartupOrder;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.builder.endpoint.dsl.KafkaEndpointBuilderFactory.KafkaEndpointConsumerBuilder;
import org.apache.camel.component.kafka.consumer.DefaultKafkaManualCommitFactory;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

import static org.apache.camel.builder.endpoint.StaticEndpointBuilders.kafka;

/**
 * The Kafka queue ({@code relay.queue: kafka}).
 * <ul>
 * <li>Accepted messages reach the topic through QueueProducer: the records of one message in one
 *     Kafka transaction, keyed by workspace (a workspace's messages keep their order on one
 *     partition). The caller waits for the commit: the 202 / 250 means the broker has the message.</li>
 * <li>{@code queue-consume}: the consumer group of all relay instances, reading committed records
 *     only (isolation.level=read_committed: an aborted accept is never seen). Each record is taken
 *     into the messages table (QueueIntake), delivered by {@code direct:deliver} (the one delivery route, fed by
 *     the database queue's workers too) — and only then is its offset committed
 *     (autoCommitEnable=false with the synchronous commit manager). A failure to take it commits
 *     nothing and polls the record again (breakOnFirstError): forever while the database is down,
 *     at most max-intake-attempts times when the record itself is at fault — then it is parked in
 *     queue_dead_letters, its offset committed, and the partition moves on.</li>
 * <li>On stop (SIGTERM, context close) Camel's graceful shutdown lets each consumer finish the
 *     record it is delivering; the consumer then commits the offsets of what it finished and
 *     leaves the group (unsubscribe, close), so the other instances take its partitions at once
 *     rather than after the session timeout, and read on from the first record it did not finish.</li>
 * </ul>
 * Retries and dead letters stay on the database schedule: a deferred message is claimed again by
 * {@code queue-poll}, which runs in Kafka mode too. So does paused mail: a record of a paused
 * workspace and email type (queue_pauses) is taken QUEUED and not delivered (QueueIntake), its
 * offset committed, and queue-poll delivers it once the pause is lifted.
 */
@Component
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class KafkaQueueRoutes extends RouteBuilder {

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
        from(consumerEndpoint()).routeId("queue-consume")
                // Started once routes/ is loaded (StartupOrder), when this instance runs workers.
                .group(workers ? StartupOrder.AFTER_ROUTE_FILES : null)
                .autoStartup(false)
                .doTry()
                    .setBody(method("queueIntake", "take"))
                .doCatch(Exception.class)
                    .to("direct:queue-intake-failed")
                .end()
                .filter(body().isNotNull())
                    .to("direct:deliver")
                .end();

        // A record that was not taken: read again (nothing is committed), or — its own fault, tried
        // enough — parked, so that its offset is committed and the partition moves on.
        from("direct:queue-intake-failed").routeId("queue-intake-failed")
                .choice()
                    .when(method("queueIntake", "exhausted"))
                        .bean("queueIntake", "park")
                        .setBody(constant(null))
                    .otherwise()
                        .process(exchange -> {
                            throw exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Exception.class);
                        })
                .end();

    }

    private KafkaEndpointConsumerBuilder consumerEndpoint() {
        // Each record is delivered before the next poll: the poll interval must outlast a batch of slow upstreams.
        long pollInterval = Math.max(Duration.ofMinutes(5).toMillis(), kafka.maxPollRecords() * 60_000L);
        return kafka(kafka.topic())
                .brokers(kafka.brokers())
                .groupId(kafka.groupId())
                .consumersCount(kafka.consumers())
                .autoOffsetReset("earliest")
                .autoCommitEnable(false)
                .allowManualCommit(true)
                .breakOnFirstError(true)
                .maxPollRecords(kafka.maxPollRecords())
                .maxPollIntervalMs(String.valueOf(pollInterval))
                .maxPartitionFetchBytes(String.valueOf(maxRecordBytes))
                .valueDeserializer(ByteArrayDeserializer.class.getName())
                .advanced()
                    .isolationLevel("read_committed")
                    .kafkaManualCommitFactory("#class:" + DefaultKafkaManualCommitFactory.class.getName())
                .basic();
    }
}
