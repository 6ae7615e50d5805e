package com.mailrelay.events;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.mailrelay.support.KafkaBroker;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.apache.camel.support.ScheduledPollConsumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The wireTap path: with the webhook and event-stream polls ten minutes apart, the events of sent
 * messages still reach the webhook receiver and the Kafka topic within seconds — handed on right
 * after each outcome's commit ({@code events-written}), not found by a poll — and each event once.
 */
@TestPropertySource(properties = {"relay.webhooks.poll-delay=10m", "relay.events.kafka.enabled=true",
        "relay.events.kafka.topic=relay-events-wiretap", "relay.events.kafka.poll-delay=600000"})
// Closed after the class: its Kafka producer must not outlive the test JVM's broker.
@DirtiesContext
class WebhookWireTapTest extends RelayTestSupport {

    private static final String TOPIC = "relay-events-wiretap";

    @Autowired
    private CamelContext camel;

    @DynamicPropertySource
    static void brokers(DynamicPropertyRegistry registry) {
        registry.add("relay.events.kafka.brokers", KafkaBroker::brokers);
    }

    @Test
    void eventsOfSentMessagesArePostedAndStreamedWithinSecondsThoughThePollsAreMinutesApart() {
        // Each scheduler polls once a second after it starts, then only ten minutes later.
        for (String route : List.of("webhook-poll", "event-stream-poll")) {
            ScheduledPollConsumer poll = (ScheduledPollConsumer) camel.getRoute(route).getConsumer();
            await().atMost(Duration.ofSeconds(30)).until(poll::isFirstPollDone);
        }
        WireMockServer receiver = Upstreams.webhooks();
        receiver.resetAll();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(200)));

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(submit("hooked", Map.of("from", "app@hooked.test", "to",
                    List.of("tap" + i + "@customer.test", "tip" + i + "@customer.test"), "subject", "tapped " + i,
                    "text", "x")));
        }
        for (String id : ids) {
            awaitStatus(id, "SENT");
        }
        List<Long> events = jdbc.queryForList("select id from events where message_id in (?, ?, ?, ?) order by id",
                Long.class, ids.stream().map(UUID::fromString).toArray());
        assertThat(events).hasSize(8);

        // Posted within seconds, each event once (no later post repeats one).
        await().atMost(Duration.ofSeconds(10)).until(() -> posted(receiver).containsAll(events));
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3))
                .until(() -> posted(receiver).size() == events.size());
        assertThat(posted(receiver)).containsExactlyInAnyOrderElementsOf(events);
        assertThat(jdbc.queryForList("select distinct delivery_state from events where message_id in (?, ?, ?, ?)",
                String.class, ids.stream().map(UUID::fromString).toArray())).containsExactly("DELIVERED");

        // Streamed within seconds, each event once.
        List<Long> streamed = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProperties())) {
            consumer.subscribe(List.of(TOPIC));
            await().atMost(Duration.ofSeconds(10)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(record -> streamed.add(eventId(record)));
                return streamed.containsAll(events);
            });
            consumer.poll(Duration.ofMillis(500)).forEach(record -> streamed.add(eventId(record)));
        }
        assertThat(streamed).containsExactlyInAnyOrderElementsOf(events);
        receiver.resetAll();
    }

    /** The event ids of every post the receiver took, in the order they came. */
    private static List<Long> posted(WireMockServer receiver) {
        return receiver.getAllServeEvents().stream()
                .filter(request -> request.getRequest().getUrl().equals("/mandrill"))
                .sorted(Comparator.comparing((ServeEvent request) -> request.getRequest().getLoggedDate()))
                .flatMap(request -> WebhookIsolationTest.ids(request.getRequest().getBodyAsString()).stream())
                .toList();
    }

    private static long eventId(ConsumerRecord<String, String> record) {
        return ByteBuffer.wrap(record.headers().lastHeader("relay-event-id").value()).getLong();
    }

    private static Properties consumerProperties() {
        Properties properties = new Properties();
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.brokers());
        properties.put(ConsumerConfig.GROUP_ID_CONFIG, "wiretap-test-" + UUID.randomUUID());
        properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class);
        return properties;
    }
}
