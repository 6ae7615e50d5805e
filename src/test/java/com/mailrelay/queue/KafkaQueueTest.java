package com.mailrelay.queue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.mailrelay.support.KafkaBroker;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.Upstreams;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * relay.queue=kafka end to end, on a real (embedded) broker: REST and SMTP submissions are on the
 * topic, keyed by workspace, once they are answered; a consumer takes each into the messages
 * table and delivers it once to a real upstream; retries run on the database schedule.
 */
@TestPropertySource(properties = {"relay.queue=kafka", "relay.queue-kafka.topic=" + KafkaQueueTest.TOPIC,
        "relay.queue-kafka.partitions=4", "relay.queue-kafka.consumers=2"})
// Closed after the class, while the broker still runs: its consumers would otherwise wait for a
// vanished broker when the test JVM exits.
@DirtiesContext
class KafkaQueueTest extends RelayTestSupport {

    static final String TOPIC = "relay-messages-e2e";

    @DynamicPropertySource
    static void brokers(DynamicPropertyRegistry registry) {
        registry.add("relay.queue-kafka.brokers", KafkaBroker::brokers);
    }

    @Test
    void restSubmissionIsOnTheTopicWhenAnsweredAndDeliveredOnce() {
        String id = submit("acme", message("app@acme.test", "kafka-rest@customer.test", "over kafka"));

        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> id.equals(idOf(r)));
        assertThat(record.key()).isEqualTo("acme");
        assertThat(record.headers().lastHeader("Authorization")).as("no ingress header leaks").isNull();

        awaitStatus(id, "SENT");
        var upstream = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, id).size() == 1);
        var row = row(id);
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(row.get("provider_id")).isEqualTo("acme-transactional");
        assertThat(row.get("lease_owner")).isNotNull();
        assertThat(eventTypes(id)).containsExactly("send");
        HttpResponse<String> view = get(key("acme"), "/api/v1/messages/" + id);
        assertThat(view.statusCode()).isEqualTo(200);
        assertThat(read(view.body())).containsEntry("status", "SENT");
    }

    @Test
    void aRecordSeenAgainIsNotSentAgain() {
        String id = submit("acme", message("app@acme.test", "kafka-again@customer.test", "seen again"));
        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> id.equals(idOf(r)));
        awaitStatus(id, "SENT");

        // The same record once more, as a consumer sees it after a crash or a rebalance that came
        // before its offset was committed. A later message of the workspace follows it on the same
        // partition: once that one is sent, the repeat has been taken (and skipped).
        KafkaBroker.produce(TOPIC, record.key(), record.value());
        String later = submit("acme", message("app@acme.test", "kafka-later@customer.test", "after the repeat"));
        awaitStatus(later, "SENT");

        var upstream = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, later).size() == 1);
        assertThat(Upstreams.received(upstream, id)).hasSize(1);
        assertThat(row(id).get("attempts")).isEqualTo(1);
        assertThat(eventTypes(id)).containsExactly("send");
    }

    @Test
    void smtpSubmissionIsOnTheTopicWhenAnsweredAndDeliveredOnce() {
        String marker = "kafka-smtp-" + System.nanoTime();
        String id;
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("globex", "globex-password")).startsWith("235");
            assertThat(client.send("MAIL FROM:<news@globex.test>")).startsWith("250");
            assertThat(client.send("RCPT TO:<kafka-smtp@customer.test>")).startsWith("250");
            assertThat(client.send("DATA")).startsWith("354");
            client.write("From: news@globex.test\r\nSubject: " + marker + "\r\nMessage-ID: <" + marker
                    + "@globex.test>\r\n\r\nover kafka\r\n.\r\n");
            String reply = client.readReply();
            assertThat(reply).startsWith("250 2.0.0 Ok: queued as ");
            id = reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
        }

        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> id.equals(idOf(r)));
        assertThat(record.key()).isEqualTo("globex");

        awaitStatus(id, "SENT");
        var upstream = Upstreams.greenMail("globex-marketing");   // globex's default type is marketing
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, marker).size() == 1);
        assertThat(eventTypes(id)).containsExactly("send");
    }

    @Test
    void transientFailureIsDeferredAndRetriedOnTheDatabaseSchedule() {
        // workspace retry → provider-scripted; flaky* gets 451 twice, then 250.
        String recipient = "flaky-kafka-" + System.nanoTime() + "@customer.test";
        String id = submit("retry", message("app@retry.test", recipient, "kafka soft then ok"));

        awaitStatus(id, "SENT");
        var row = row(id);
        assertThat(row.get("attempts")).isEqualTo(3);
        assertThat(eventTypes(id)).containsExactly("deferral", "deferral", "send");
        assertThat(Upstreams.scripted().deliveredTo(recipient)).hasSize(1);
    }

    @Test
    void idempotencyKeyOfAMessageAlreadyTakenAnswersWithThatMessage() {
        String key = "kafka-key-" + System.nanoTime();
        Map<String, Object> body = message("app@acme.test", "kafka-idem@customer.test", "once only");
        HttpResponse<String> first = post(key("acme"), body, Map.of("Idempotency-Key", key));
        assertThat(first.statusCode()).isEqualTo(202);
        String id = (String) read(first.body()).get("id");
        awaitStatus(id, "SENT");

        HttpResponse<String> again = post(key("acme"), body, Map.of("Idempotency-Key", key));
        assertThat(again.statusCode()).isEqualTo(202);
        assertThat(read(again.body())).containsEntry("id", id);
        HttpResponse<String> reused = post(key("acme"), message("app@acme.test", "other@customer.test", "other"),
                Map.of("Idempotency-Key", key));
        assertThat(reused.statusCode()).isEqualTo(422);
        assertThat(jdbc.queryForObject("select count(*) from messages where idempotency_key = ?", Long.class, key))
                .isEqualTo(1);
    }

    @Test
    void secondMessageWithAKeyInUseIsDroppedByTheConsumer() throws IOException {
        // Two requests with one key, both on the topic before a consumer took the first: the accept
        // could not see the first, so the consumer keeps it and drops the second.
        String key = "kafka-race-" + System.nanoTime();
        HttpResponse<String> first = post(key("acme"), message("app@acme.test", "kafka-race@customer.test", "race"),
                Map.of("Idempotency-Key", key));
        String id = (String) read(first.body()).get("id");
        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> id.equals(idOf(r)));
        var second = (ObjectNode) JSON.readTree(record.value());
        String secondId = UUID.randomUUID().toString();
        second.put("id", secondId);
        KafkaBroker.produce(TOPIC, record.key(), JSON.writeValueAsBytes(second));
        String later = submit("acme", message("app@acme.test", "kafka-after-race@customer.test", "after the race"));
        awaitStatus(later, "SENT");

        assertThat(status(id)).isEqualTo("SENT");
        assertThat(jdbc.queryForObject("select count(*) from messages where id = ?", Long.class,
                UUID.fromString(secondId))).isZero();
        var upstream = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, later).size() == 1);
        assertThat(Upstreams.received(upstream, id)).as("the MIME both records carry").hasSize(1);
    }

    @Test
    void messageToSuppressedRecipientsOnlyIsRecordedRejected() {
        String address = "kafka-unsubscribed-" + System.nanoTime() + "@customer.test";
        HttpResponse<String> suppressed = send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/recipients/" + address))
                .header("Authorization", "Bearer " + key("acme")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"status\": \"UNSUBSCRIBED\"}")).build());
        assertThat(suppressed.statusCode()).isEqualTo(200);

        HttpResponse<String> response = post(key("acme"), message("app@acme.test", address, "unwanted"), Map.of());
        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(read(response.body())).containsEntry("status", "rejected");
        String id = (String) read(response.body()).get("id");

        awaitStatus(id, "REJECTED");
        assertThat(eventTypes(id)).containsExactly("reject");
        assertThat(Upstreams.received(Upstreams.greenMail("acme-transactional"), id)).isEmpty();
    }

    @Test
    void personalisedMarketingMailGoesToTheTopicAsOneRecordPerRecipient() throws Exception {
        String suppressedAddress = "kafka-gone-" + System.nanoTime() + "@customer.test";
        assertThat(send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/recipients/" + suppressedAddress))
                .header("Authorization", "Bearer " + key("globex")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"status\": \"UNSUBSCRIBED\"}")).build()).statusCode())
                .isEqualTo(200);
        List<String> readers = List.of("kafka-ann-" + System.nanoTime() + "@customer.test",
                "kafka-bob-" + System.nanoTime() + "@customer.test");
        Map<String, Object> body = Map.of("from", "news@globex.test",
                "to", List.of(readers.get(0), suppressedAddress, readers.get(1)), "subject", "Hello {{EMAIL}}",
                "html", "<html><body><a href=\"https://globex.test/sale\">sale</a></body></html>");
        HttpResponse<String> response = post(key("globex"), body, Map.of());
        assertThat(response.statusCode()).isEqualTo(202);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> parts = (List<Map<String, Object>>) read(response.body()).get("messages");
        assertThat(parts).extracting(part -> part.get("email")).containsExactlyElementsOf(readers);

        var upstream = Upstreams.greenMail("globex-marketing");
        for (Map<String, Object> part : parts) {
            String id = (String) part.get("id");
            assertThat(KafkaBroker.find(TOPIC, r -> id.equals(idOf(r))).key()).isEqualTo("globex");
            awaitStatus(id, "SENT");
            await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, id).size() == 1);
            jakarta.mail.internet.MimeMessage copy = Upstreams.received(upstream, id).get(0);
            assertThat(copy.getSubject()).isEqualTo("Hello " + part.get("email"));
            assertThat(copy.getHeader("List-Unsubscribe-Post", null)).isEqualTo("List-Unsubscribe=One-Click");
            assertThat(new String(copy.getInputStream().readAllBytes())).contains("/t/c/").doesNotContain(
                    "href=\"https://globex.test/sale\"");
        }
        // The suppressed recipient is a reject event on the first copy, and got nothing.
        assertThat(eventTypes((String) parts.get(0).get("id"))).contains("reject", "send");
        assertThat(eventTypes((String) parts.get(1).get("id"))).containsExactly("send");
    }

    private static String idOf(ConsumerRecord<String, byte[]> record) {
        try {
            return JSON.readTree(record.value()).path("id").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
