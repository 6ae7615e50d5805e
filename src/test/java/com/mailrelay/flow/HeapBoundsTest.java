package com.mailrelay.flow;

import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.support.ForkedRelay;
import com.mailrelay.support.KafkaBroker;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.TestDatabaseEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.any;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One message's events cannot exhaust the heap: against a relay process with the Dockerfile's
 * memory settings (-Xmx192m), webhooks and the Kafka event stream on, a message with 9 MB of
 * metadata to 100 recipients is refused at accept; one with metadata at a (raised) cap of 64 KB to
 * 100 recipients is delivered, and every one of its 100 events reaches the webhook receiver (in
 * batches bounded by bytes) and the topic; the relay serves on and never runs out of memory.
 *
 * <p>It is about the heap, not the database, so it runs once, in the PostgreSQL execution.
 */
@EnabledIfSystemProperty(named = TestDatabaseEnvironment.ENGINE_PROPERTY, matches = "postgres",
        disabledReason = "about the heap, not the database: runs once, in the postgres execution of the suite")
class HeapBoundsTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOPIC = "relay-events-heap";
    private static final int RECIPIENTS = 100;

    @Test
    void largeMetadataToManyRecipientsIsRefusedOrDeliveredWithEveryEventAndTheRelayServesOn() throws Exception {
        int webhookPort = ForkedRelay.freePort();
        WireMockServer receiver = new WireMockServer(WireMockConfiguration.options().port(webhookPort)
                .bindAddress("127.0.0.1"));
        receiver.start();
        receiver.stubFor(any(anyUrl()).willReturn(aResponse().withStatus(200)));
        try (ForkedRelay relay = ForkedRelay.builder()
                .javaOptions(ForkedRelay.DOCKERFILE_JAVA_OPTIONS)
                .property("test.webhook.port", Integer.toString(webhookPort))
                .property("relay.limits.metadata-bytes", "64KB")
                .property("relay.events.kafka.enabled", "true")
                .property("relay.events.kafka.brokers", KafkaBroker.brokers())
                .property("relay.events.kafka.topic", TOPIC)
                .start()) {
            relay.awaitReady(Duration.ofSeconds(180));
            HttpClient http = HttpClient.newHttpClient();

            // 9 MB of metadata (under the 10 MB body limit) to 100 recipients: refused, nothing stored.
            HttpResponse<String> refused = post(http, relay, message("9 MB of metadata", "x".repeat(9 * 1024 * 1024)));
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
            assertThat(refused.body()).contains("metadata");

            // Metadata at the cap, to 100 recipients: 100 send events, each carrying the 64 KB.
            HttpResponse<String> accepted = post(http, relay, message("64 KB of metadata", "y".repeat(60 * 1024)));
            assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
            String id = JSON.readTree(accepted.body()).get("id").asText();

            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> assertThat(hooked(receiver, id)).hasSize(RECIPIENTS));
            assertThat(streamed(id)).hasSize(RECIPIENTS);
            List<LoggedRequest> posts = receiver.findAll(postRequestedFor(anyUrl()));
            assertThat(posts).as("batches bounded by bytes: 100 events of 64 KB do not go in one post")
                    .hasSizeGreaterThan(1);

            // The relay serves on.
            HttpResponse<String> next = post(http, relay, Map.of("from", "app@heap.test", "to", List.of("z@example.org"),
                    "subject", "after", "text", "still here"));
            assertThat(next.statusCode()).as(next.body()).isEqualTo(202);
            String nextId = JSON.readTree(next.body()).get("id").asText();
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .untilAsserted(() -> assertThat(hooked(receiver, nextId)).hasSize(1));
            assertThat(relay.log()).doesNotContain("OutOfMemoryError");
            assertThat(relay.alive()).isTrue();
        } finally {
            receiver.stop();
        }
    }

    private static Map<String, Object> message(String subject, String metadata) {
        List<String> to = new ArrayList<>();
        for (int i = 0; i < RECIPIENTS; i++) {
            to.add("heap" + i + "@example.org");
        }
        return Map.of("from", "app@heap.test", "to", to, "subject", subject, "text", "x",
                "metadata", Map.of("blob", metadata));
    }

    private static HttpResponse<String> post(HttpClient http, ForkedRelay relay, Map<String, Object> body)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(relay.uri("/api/v1/messages"))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer hooked-key")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The recipients of the message's send events that the receiver was posted. */
    private static Set<String> hooked(WireMockServer receiver, String messageId) throws IOException {
        Set<String> recipients = new HashSet<>();
        for (LoggedRequest request : receiver.findAll(postRequestedFor(anyUrl()))) {
            for (JsonNode event : MandrillPosts.events(request.getBodyAsString())) {
                if (messageId.equals(event.path("_id").asText()) && "send".equals(event.path("event").asText())) {
                    recipients.add(event.path("msg").path("email").asText());
                }
            }
        }
        return recipients;
    }

    /** The recipients of the message's events on the stream, read from the start of the topic. */
    private static Set<String> streamed(String messageId) {
        Properties properties = new Properties();
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaBroker.brokers());
        properties.put(ConsumerConfig.GROUP_ID_CONFIG, "heap-" + UUID.randomUUID());
        properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        properties.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        properties.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        Set<String> recipients = new HashSet<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(properties)) {
            consumer.subscribe(List.of(TOPIC));
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                for (ConsumerRecord<String, String> record : consumer.poll(Duration.ofMillis(200))) {
                    if (messageId.equals(record.key())) {
                        recipients.add(JSON.readTree(record.value()).path("msg").path("email").asText());
                    }
                }
                return recipients.size() >= RECIPIENTS;
            });
        }
        return recipients;
    }
}
