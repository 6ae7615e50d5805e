package com.mailrelay.events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import com.mailrelay.support.RelayTestSupport;
import org.apache.camel.CamelContext;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * With relay.events.kafka.enabled, every event reaches a real (embedded) Kafka broker once; one
 * the producer refuses (larger than its max.request.size, kept small here) is parked, and the
 * stream goes on without producing the events before it again.
 */
@TestPropertySource(properties = {"relay.events.kafka.enabled=true", "relay.events.kafka.topic=relay-events-test",
        "relay.events.kafka.poll-delay=200", "relay.events.kafka.max-request-size=4096"})
// Closed after the class, while its broker still runs: at JVM exit the cached context's Kafka
// producer would otherwise wait for a broker that is gone.
@DirtiesContext
class EventStreamTest extends RelayTestSupport {

    @Autowired
    private CamelContext camel;

    private static final EmbeddedKafkaKraftBroker KAFKA = startKafka();

    @DynamicPropertySource
    static void brokers(DynamicPropertyRegistry registry) {
        registry.add("relay.events.kafka.brokers", KAFKA::getBrokersAsString);
    }

    @AfterAll
    static void stopKafka() {
        KAFKA.destroy();
    }

    @Test
    void everyEventIsProducedOnceKeyedByItsMessage() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(submit("acme", Map.of("from", "app@acme.test", "to", List.of("k" + i + "@customer.test",
                    "l" + i + "@customer.test"), "subject", "streamed " + i, "text", "x")));
        }
        for (String id : ids) {
            awaitStatus(id, "SENT");
        }
        await().atMost(Duration.ofSeconds(30)).until(() ->
                jdbc.queryForObject("select count(*) from events where streamed_at is null", Long.class) == 0);

        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties("all"))) {
            consumer.subscribe(List.of("relay-events-test"));
            long total = jdbc.queryForObject("select count(*) from events where stream_error is null", Long.class);
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return records.size() >= total;
            });
            consumer.poll(Duration.ofMillis(500)).forEach(records::add);   // nothing more may come
            assertThat(records).hasSize((int) total);
        }
        for (String id : ids) {
            List<ConsumerRecord<String, String>> mine = records.stream().filter(r -> id.equals(r.key())).toList();
            assertThat(mine).hasSize(2);
            for (ConsumerRecord<String, String> record : mine) {
                Map<String, Object> event = read(record.value());
                assertThat(event).containsEntry("event", "send").containsEntry("_id", id)
                        .containsEntry(MandrillEvents.EVENT_ID, String.valueOf(
                                java.nio.ByteBuffer.wrap(record.headers().lastHeader("relay-event-id").value()).getLong()));
                assertThat(((Map<?, ?>) event.get("msg")).get("state")).isEqualTo("sent");
            }
        }
    }

    @Test
    void anEventTheProducerRefusesIsParkedAndTheStreamGoesOn() {
        // Held back until the middle one's metadata is larger than the producer takes (as a
        // message accepted under a larger metadata limit would have it).
        String before;
        String large;
        String after;
        try {
            camel.getRouteController().stopRoute("event-stream");
            before = submit("acme", message("app@acme.test", "before@customer.test", "before"));
            large = submit("acme", message("app@acme.test", "large@customer.test", "large"));
            after = submit("acme", message("app@acme.test", "after@customer.test", "after"));
            for (String id : List.of(before, large, after)) {
                awaitStatus(id, "SENT");
            }
            jdbc.update("update messages set metadata = ? where id = ?", write(Map.of("m", "x".repeat(8000))),
                    UUID.fromString(large));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        } finally {
            try {
                camel.getRouteController().startRoute("event-stream");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "select count(*) from events where message_id in (?, ?, ?) and streamed_at is null", Long.class,
                UUID.fromString(before), UUID.fromString(large), UUID.fromString(after)) == 0);
        // Parked, with the producer's reason; the others streamed.
        assertThat(jdbc.queryForObject("select stream_error from events where message_id = ?", String.class,
                UUID.fromString(large))).contains("RecordTooLargeException");
        assertThat(jdbc.queryForList("select stream_error from events where message_id in (?, ?)", String.class,
                UUID.fromString(before), UUID.fromString(after))).containsOnlyNulls();

        // On the topic: the events before and after it once each (some polls later), never the parked one.
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties("parked"))) {
            consumer.subscribe(List.of("relay-events-test"));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
                return records.stream().anyMatch(r -> after.equals(r.key()));
            });
            for (int i = 0; i < 5; i++) {                  // a second of polls: nothing more may come
                consumer.poll(Duration.ofMillis(200)).forEach(records::add);
            }
        }
        assertThat(records.stream().filter(r -> before.equals(r.key()))).hasSize(1);
        assertThat(records.stream().filter(r -> after.equals(r.key()))).hasSize(1);
        assertThat(records.stream().filter(r -> large.equals(r.key()))).isEmpty();
    }

    private static Properties consumerProperties(String group) {
        Properties properties = new Properties();
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBrokersAsString());
        properties.put(ConsumerConfig.GROUP_ID_CONFIG, "event-stream-test-" + group);
        properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        return properties;
    }

    private static EmbeddedKafkaKraftBroker startKafka() {
        EmbeddedKafkaKraftBroker broker = new EmbeddedKafkaKraftBroker(1, 1, "relay-events-test");
        broker.afterPropertiesSet();
        return broker;
    }
}
