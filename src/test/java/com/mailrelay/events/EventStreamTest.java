package com.mailrelay.events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import com.mailrelay.support.RelayTestSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** With relay.events.kafka.enabled, every event reaches a real (embedded) Kafka broker once. */
@TestPropertySource(properties = {"relay.events.kafka.enabled=true", "relay.events.kafka.topic=relay-events-test",
        "relay.events.kafka.poll-delay=200"})
// Closed after the class, while its broker still runs: at JVM exit the cached context's Kafka
// producer would otherwise wait for a broker that is gone.
@DirtiesContext
class EventStreamTest extends RelayTestSupport {

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
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties())) {
            consumer.subscribe(List.of("relay-events-test"));
            long total = jdbc.queryForObject("select count(*) from events", Long.class);
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
                assertThat(event).containsEntry("event", "send").containsEntry("_id", id);
                assertThat(((Map<?, ?>) event.get("msg")).get("state")).isEqualTo("sent");
            }
        }
    }

    private static Properties consumerProperties() {
        Properties properties = new Properties();
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.getBrokersAsString());
        properties.put(ConsumerConfig.GROUP_ID_CONFIG, "event-stream-test");
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
