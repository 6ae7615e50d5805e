package com.mailrelay.queue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.mailrelay.accept.AcceptRoutesTest;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.support.DatabaseOutage;
import com.mailrelay.support.KafkaBroker;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
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
// "Kafka", not "kafka": relay.queue is an enum, read case-insensitively, and the accept route's choice must be too.
@TestPropertySource(properties = {"relay.queue=Kafka", "relay.queue-kafka.topic=" + KafkaQueueTest.TOPIC,
        "relay.queue-kafka.partitions=4", "relay.queue-kafka.consumers=2"})
// Closed after the class, while the broker still runs: its consumers would otherwise wait for a
// vanished broker when the test JVM exits.
@DirtiesContext
class KafkaQueueTest extends RelayTestSupport {

    static final String TOPIC = "relay-messages-e2e";

    @Autowired
    private RelayProperties properties;

    @Autowired
    private MeterRegistry meters;

    @DynamicPropertySource
    static void brokers(DynamicPropertyRegistry registry) {
        registry.add("relay.queue-kafka.brokers", KafkaBroker::brokers);
    }

    @Test
    void readinessIncludesTheQueuesBroker() {
        HttpResponse<String> readiness = get("admin-key", "/actuator/health/readiness");
        assertThat(readiness.statusCode()).as(readiness.body()).isEqualTo(200);
        Map<String, Object> body = read(readiness.body());
        assertThat(String.valueOf(((Map<?, ?>) body.get("components")).get("kafka"))).startsWith("{status=UP")
                .contains("nodes=1");
    }

    @Test
    void theRoutesApiListsTheKafkaAcceptRoute() {
        assertThat(AcceptRoutesTest.routes(port)).containsKeys("accept", "accept-database", "accept-kafka");
        assertThat(AcceptRoutesTest.routes(port).get("accept-kafka")).containsEntry("source", "java")
                .containsEntry("state", "Started");
    }

    @Test
    void aBatchIsRefusedWith501NamingTheQueueMode() {
        String subject = "kafka-batch-" + System.nanoTime();
        HttpResponse<String> refused = send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                        "http://127.0.0.1:" + port + "/api/v1/messages/batch"))
                .header("Authorization", "Bearer " + key("acme")).header("Content-Type", "application/json")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(write(Map.of("messages",
                        List.of(message("app@acme.test", "kafka-batch@customer.test", subject))))))
                .build());
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(501);
        assertThat(read(refused.body())).containsEntry("error", "not_implemented");
        assertThat(refused.body()).contains("relay.queue: database");
        assertThat(jdbc.queryForObject("select count(*) from messages where subject = ?", Long.class, subject)).isZero();
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

    /**
     * Scheduled send in Kafka mode: the record carries send_at, and its intake writes a row QUEUED
     * until then (not leased, not delivered), which the database queue delivers at its time.
     */
    @Test
    void aRecordScheduledAheadIsTakenQueuedAndDeliveredAtItsTime() throws IOException {
        // Warm first: a send time a few seconds ahead must still be ahead when its record is taken.
        awaitStatus(submit("acme", message("app@acme.test", "kafka-warm@customer.test", "warm")), "SENT");
        double scheduledBefore = intakeCount("scheduled");
        java.time.Instant sendAt = java.time.Instant.now().plusSeconds(4).truncatedTo(java.time.temporal.ChronoUnit.MILLIS);
        Map<String, Object> body = new java.util.HashMap<>(message("app@acme.test", "kafka-scheduled@customer.test",
                "scheduled over kafka"));
        body.put("send_at", sendAt.toString());
        String id = submit("acme", body);

        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> id.equals(idOf(r)));
        assertThat(java.time.Instant.parse(JSON.readTree(record.value()).path("sendAt").asText())).isEqualTo(sendAt);
        awaitStatus(id, "QUEUED");
        var upstream = Upstreams.greenMail("acme-transactional");
        while (java.time.Instant.now().isBefore(sendAt.minusMillis(150))) {
            var row = row(id);
            assertThat(row.get("status")).as("held until its send time").isEqualTo("QUEUED");
            assertThat(row.get("attempts")).isEqualTo(0);
            assertThat(time(id, "next_attempt_at")).isEqualTo(sendAt);
            assertThat(Upstreams.received(upstream, id)).isEmpty();
            await().pollDelay(Duration.ofMillis(50)).until(() -> true);
        }
        assertThat(intakeCount("scheduled")).isEqualTo(scheduledBefore + 1);
        awaitStatus(id, "SENT");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, id).size() == 1);
        assertThat(time(id, "sent_at")).isAfterOrEqualTo(sendAt);
        assertThat(time(id, "send_at")).isEqualTo(sendAt);
        assertThat(eventTypes(id)).containsExactly("send");
    }

    private java.time.Instant time(String id, String column) {
        return jdbc.queryForObject("select " + column + " from messages where id = ?", java.sql.Timestamp.class,
                UUID.fromString(id)).toInstant();
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
    void aControlCharacterInAnyFieldIsRefusedAtAcceptAndNeverReachesTheTopic() {
        String marker = "kafka-nul-" + System.nanoTime();
        List<Map<String, Object>> bad = List.of(
                Map.of("from", "app@acme.test", "to", List.of("n@customer.test"), "subject", marker + " a\u0000b",
                        "text", "x"),
                Map.of("from", "app@acme.test", "to", List.of("n@customer.test"), "subject", marker + " tags",
                        "text", "x", "tags", List.of("t\u0000")),
                Map.of("from", "app@acme.test", "to", List.of("n@customer.test"), "subject", marker + " metadata",
                        "text", "x", "metadata", Map.of("k", "v\u0000")),
                Map.of("from", "app@acme.test", "to", List.of("n@customer.test"), "subject", marker + " header",
                        "text", "x", "headers", Map.of("X-Note", "a\u0001b")));
        List<String> fields = List.of("\"subject\"", "\"tags[0]\"", "\"metadata", "\"headers.X-Note\"");
        for (int i = 0; i < bad.size(); i++) {
            HttpResponse<String> response = post(key("acme"), bad.get(i), Map.of());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
            assertThat(response.body()).contains(fields.get(i));
        }
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            String reply = client.submit("app@acme.test", "n@customer.test", "From: app@acme.test\r\nSubject: "
                    + marker + " =?UTF-8?B?AA==?=\r\n\r\nbody\r\n");
            assertThat(reply).startsWith("550 5.6.0").contains("Subject");
        }
        // The next good message of the workspace goes to the same partition (keyed by workspace):
        // once it is read, nothing refused before it can still be on its way.
        String good = submit("acme", message("app@acme.test", "n@customer.test", marker + " good"));
        List<String> seen = new java.util.ArrayList<>();
        KafkaBroker.find(TOPIC, r -> {
            String value = new String(r.value(), java.nio.charset.StandardCharsets.UTF_8);
            if (value.contains(marker)) {
                seen.add(idOf(r));
            }
            return good.equals(idOf(r));
        });
        assertThat(seen).containsExactly(good);
        assertThat(jdbc.queryForObject("select count(*) from messages where subject like ?", Long.class,
                marker + "%")).isLessThanOrEqualTo(1L);
        awaitStatus(good, "SENT");
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
    void aRecordOfAPausedWorkspaceAndTypeIsTakenQueuedAndDeliveredByTheDatabaseQueueOnResume() {
        String pause = write(Map.of("workspace", "ops-paused", "email_type", "marketing", "reason", "kafka test"));
        try {
            assertThat(postJson("/api/v1/queue/pause", pause).statusCode()).isEqualTo(200);
            double pausedBefore = meters.counter("relay.queue.intake", "outcome", "paused").count();
            String held = submit("ops-paused", Map.of("from", "ops@paused.test", "to", List.of("k@customer.test"),
                    "subject", "kafka paused " + System.nanoTime(), "text", "held", "type", "marketing"));
            // The workspace's next record is on the same partition: once it is delivered, the held one was taken.
            String next = submit("ops-paused", Map.of("from", "ops@paused.test", "to", List.of("k@customer.test"),
                    "subject", "kafka not paused " + System.nanoTime(), "text", "goes", "type", "transactional"));
            awaitStatus(next, "SENT");
            var row = row(held);
            assertThat(row.get("status")).isEqualTo("QUEUED");
            assertThat(row.get("attempts")).isEqualTo(0);
            assertThat(row.get("lease_owner")).isNull();
            assertThat(meters.counter("relay.queue.intake", "outcome", "paused").count()).isEqualTo(pausedBefore + 1);

            assertThat(postJson("/api/v1/queue/resume", pause).statusCode()).isEqualTo(200);
            awaitStatus(held, "SENT");
            assertThat(row(held).get("attempts")).isEqualTo(1);
            assertThat(eventTypes(held)).containsExactly("send");
        } finally {
            jdbc.update("delete from queue_pauses where workspace_id = 'ops-paused'");
        }
    }

    private HttpResponse<String> postJson(String path, String body) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer admin-key").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build());
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
    void repeatOfARequestWithAKeyInUseIsDroppedByTheConsumer() throws IOException {
        // The same request twice with one key, both on the topic before a consumer took the first:
        // the accept could not see the first, so the consumer keeps it and drops the repeat.
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

    @Test
    void aRecordThatCanNeverBeStoredIsParkedAndItsPartitionMovesOn() throws IOException {
        String model = submit("acme", message("app@acme.test", "kafka-poison-model@customer.test", "model"));
        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> model.equals(idOf(r)));
        awaitStatus(model, "SENT");

        // A message no database takes: its envelope sender is longer than from_addr (varchar(254)).
        var poison = (ObjectNode) JSON.readTree(record.value());
        String poisonId = UUID.randomUUID().toString();
        poison.put("id", poisonId);
        poison.put("envelopeFrom", "x".repeat(300) + "@acme.test");
        byte[] bytes = JSON.writeValueAsBytes(poison);
        long offset = KafkaBroker.produce(TOPIC, "acme", bytes);

        // The workspace's next message is on the same partition, behind it, and still goes out at once.
        String later = submit("acme", message("app@acme.test", "kafka-after-poison@customer.test", "behind it"));
        awaitStatus(later, "SENT", Duration.ofSeconds(15));

        Map<String, Object> parked = jdbc.queryForMap("select * from queue_dead_letters where message_id = ?",
                poisonId);
        assertThat(parked).containsEntry("topic", TOPIC).containsEntry("kafka_partition", record.partition())
                .containsEntry("kafka_offset", offset).containsEntry("record_key", "acme")
                .containsEntry("attempts", 3).containsEntry("size_bytes", bytes.length);
        assertThat((String) parked.get("reason")).as("the database's own words").contains("254");
        assertThat((byte[]) parked.get("record_bytes")).isEqualTo(bytes);
        assertThat(jdbc.queryForObject("select count(*) from messages where id = ?", Long.class,
                UUID.fromString(poisonId))).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() ->
                KafkaBroker.committedOffset("relay-dispatch", TOPIC, record.partition()) > offset);
    }

    @Test
    void aDatabaseOutageIsWaitedOutNotParked() throws IOException {
        String model = submit("acme", message("app@acme.test", "kafka-outage-model@customer.test", "model"));
        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> model.equals(idOf(r)));
        awaitStatus(model, "SENT");
        var message = (ObjectNode) JSON.readTree(record.value());
        String id = UUID.randomUUID().toString();
        message.put("id", id);

        double before = intakeCount("database_unavailable");
        DatabaseOutage.begin();
        try {
            KafkaBroker.produce(TOPIC, "acme", JSON.writeValueAsBytes(message));
            // Read again and again while the database is down: far more often than max-intake-attempts.
            await().atMost(Duration.ofSeconds(30)).until(() -> intakeCount("database_unavailable") >= before + 6);
        } finally {
            DatabaseOutage.end();
        }
        awaitStatus(id, "SENT");
        assertThat(jdbc.queryForObject("select count(*) from queue_dead_letters where message_id = ?", Long.class, id))
                .isZero();
    }

    private double intakeCount(String outcome) {
        var counter = meters.find("relay.queue.intake").tag("outcome", outcome).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aRecordThatIsNotAMessageIsParkedAtOnce() {
        byte[] bytes = "not a message".getBytes();
        long offset = KafkaBroker.produce(TOPIC, "acme", bytes);
        String later = submit("acme", message("app@acme.test", "kafka-after-junk@customer.test", "behind junk"));
        awaitStatus(later, "SENT", Duration.ofSeconds(15));

        Map<String, Object> parked = jdbc.queryForMap(
                "select * from queue_dead_letters where topic = ? and kafka_offset = ? and record_key = 'acme'",
                TOPIC, offset);
        assertThat(parked).containsEntry("attempts", 1).containsEntry("message_id", null);
        assertThat((String) parked.get("reason")).contains("not a message");
        assertThat((byte[]) parked.get("record_bytes")).isEqualTo(bytes);
    }

    @Test
    void personalisedCopiesAreOnTheTopicAllOrNone() {
        String run = Long.toString(System.nanoTime());
        List<String> to = List.of("kafka-all-a-" + run + "@customer.test", "kafka-all-b-" + run + "@customer.test",
                "kafka-all-c-" + run + "@customer.test");
        // The third recipient's copy is some 20 KB larger than the others: over the topic's
        // max.message.bytes while that is lowered, so the broker refuses it after the first two.
        Map<String, Object> body = Map.of("from", "news@globex.test", "to", to, "subject", "All or none {{EMAIL}}",
                "html", "<html><body><a href=\"https://globex.test/a\">a</a>" + "{{NOTE}}".repeat(200)
                        + "</body></html>",
                "variables", Map.of("NOTE", ""), "recipient_variables", Map.of(to.get(2), Map.of("NOTE", "n".repeat(100))));
        KafkaBroker.alterTopic(TOPIC, "max.message.bytes", "8000");
        HttpResponse<String> refused;
        try {
            refused = post(key("globex"), body, Map.of());
        } finally {
            KafkaBroker.alterTopic(TOPIC, "max.message.bytes", String.valueOf(KafkaQueueRoutes.maxRecordBytes(
                    properties)));
        }
        assertThat(refused.statusCode()).isEqualTo(503);

        HttpResponse<String> again = post(key("globex"), body, Map.of());
        assertThat(again.statusCode()).isEqualTo(202);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> parts = (List<Map<String, Object>>) read(again.body()).get("messages");
        parts.forEach(part -> awaitStatus((String) part.get("id"), "SENT"));
        // The copies of the refused request would be on the partition before these: none of them came.
        assertEachReceivedOnce(to, "All or none ");
        assertThat(jdbc.queryForObject("select count(*) from messages where recipients like ?", Long.class,
                "%kafka-all-%-" + run + "@%")).isEqualTo(3);
    }

    @Test
    void personalisedSmtpCopiesAreOnTheTopicAllOrNone() {
        String run = Long.toString(System.nanoTime());
        List<String> to = List.of("kafka-smtp-all-a-" + run + "@customer.test",
                "kafka-smtp-all-b-" + run + "@customer.test", "kafka-smtp-all-c-" + run + "@customer.test");
        KafkaBroker.alterTopic(TOPIC, "max.message.bytes", "8000");
        try {
            assertThat(smtpSend(to)).startsWith("451 4.3.0");
        } finally {
            KafkaBroker.alterTopic(TOPIC, "max.message.bytes", String.valueOf(KafkaQueueRoutes.maxRecordBytes(
                    properties)));
        }
        assertThat(smtpSend(to)).startsWith("250");
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "select count(*) from messages where status = 'SENT' and recipients like ?", Long.class,
                "%kafka-smtp-all-%-" + run + "@%") == 3);
        assertEachReceivedOnce(to, "SMTP all or none ");
        assertThat(jdbc.queryForObject("select count(*) from messages where recipients like ?", Long.class,
                "%kafka-smtp-all-%-" + run + "@%")).isEqualTo(3);
    }

    /** One SMTP transaction to globex recipients, the last of them with a copy some 20 KB larger. */
    private String smtpSend(List<String> to) {
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("globex", "globex-password")).startsWith("235");
            assertThat(client.send("MAIL FROM:<news@globex.test>")).startsWith("250");
            for (String recipient : to) {
                assertThat(client.send("RCPT TO:<" + recipient + ">")).startsWith("250");
            }
            assertThat(client.send("DATA")).startsWith("354");
            StringBuilder data = new StringBuilder("From: news@globex.test\r\nSubject: SMTP all or none {{EMAIL}}\r\n"
                    + "X-MC-MergeVars: {\"NOTE\": \"\"}\r\n"
                    + "X-MC-MergeVars: {\"_rcpt\": \"" + to.get(2) + "\", \"NOTE\": \"" + "n".repeat(100) + "\"}\r\n"
                    + "\r\n");
            for (int i = 0; i < 20; i++) {
                data.append("{{NOTE}}".repeat(10)).append("\r\n");
            }
            client.write(data.append(".\r\n").toString());
            return client.readReply();
        }
    }

    private static void assertEachReceivedOnce(List<String> recipients, String subjectPrefix) {
        var upstream = Upstreams.greenMail("globex-marketing");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String recipient : recipients) {
                long copies = Arrays.stream(upstream.getReceivedMessages()).filter(m -> {
                    try {
                        return (subjectPrefix + recipient).equals(m.getSubject());
                    } catch (jakarta.mail.MessagingException e) {
                        return false;
                    }
                }).count();
                assertThat(copies).as("copies to %s", recipient).isEqualTo(1);
            }
        });
    }

    @Test
    void aDifferentRequestUnderAKeyInUseIsRecordedRejectedByTheConsumer() throws IOException {
        // Two requests with one key but different bodies, both on the topic before a consumer took
        // the first: the accept could not answer 422, so the consumer records the second REJECTED.
        String key = "kafka-conflict-" + System.nanoTime();
        HttpResponse<String> first = post(key("acme"), message("app@acme.test", "kafka-conflict@customer.test",
                "conflict"), Map.of("Idempotency-Key", key));
        String id = (String) read(first.body()).get("id");
        ConsumerRecord<String, byte[]> record = KafkaBroker.find(TOPIC, r -> id.equals(idOf(r)));
        var second = (ObjectNode) JSON.readTree(record.value());
        String secondId = UUID.randomUUID().toString();
        second.put("id", secondId);
        second.put("requestHash", "0".repeat(64));
        KafkaBroker.produce(TOPIC, record.key(), JSON.writeValueAsBytes(second));
        String later = submit("acme", message("app@acme.test", "kafka-after-conflict@customer.test", "after it"));
        awaitStatus(later, "SENT");

        assertThat(status(id)).isEqualTo("SENT");
        Map<String, Object> rejected = row(secondId);
        assertThat(rejected).containsEntry("status", "REJECTED").containsEntry("attempts", 0)
                .containsEntry("idempotency_key", null);
        assertThat((String) rejected.get("last_error")).contains("Idempotency-Key").contains(id);
        assertThat(eventTypes(secondId)).containsExactly("reject");
        assertThat(jdbc.queryForObject("select detail from events where message_id = ?", String.class,
                UUID.fromString(secondId))).contains("Idempotency-Key");
        HttpResponse<String> view = get(key("acme"), "/api/v1/messages/" + secondId);
        assertThat(read(view.body())).containsEntry("status", "REJECTED");
        var upstream = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, later).size() == 1);
        assertThat(Upstreams.received(upstream, id)).as("the MIME both records carry").hasSize(1);
    }

    /**
     * A soft limit decides at accept in Kafka mode too (q-limit-soft: 3 per 2 s): what is over it is
     * on the topic with its hold, taken QUEUED into the database queue until its window, with one
     * deferral event, and delivered from then on.
     */
    @Test
    void aMessageOverASoftLimitIsTakenQueuedUntilItsWindowAndThenDelivered() throws IOException {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 7; i++) {
            ids.add(submit("q-limit-soft", message("app@soft.test", "k" + i + "@customer.test", "kafka soft " + i)));
        }
        int held = 0;
        for (String id : ids) {
            awaitStatus(id, "SENT");
            List<String> deferrals = jdbc.queryForList("select detail from events where message_id = ? and type = "
                    + "'deferral'", String.class, UUID.fromString(id));
            if (!deferrals.isEmpty()) {
                held++;
                assertThat(deferrals).hasSize(1);
                String reply = JSON.readTree(deferrals.get(0)).path("reply").asText();
                assertThat(reply).contains("workspace q-limit-soft may send 3 messages per 2s");
                java.time.Instant from = java.time.Instant.parse(reply.substring(reply.indexOf("sent from ") + 10));
                assertThat(jdbc.queryForObject("select created_at from events where message_id = ? and type = 'send'",
                        java.sql.Timestamp.class, UUID.fromString(id)).toInstant()).isAfterOrEqualTo(from);
            }
        }
        // Seven accepted within at most two windows of 3: at least one held.
        assertThat(held).isGreaterThanOrEqualTo(1);
    }

    /** In Kafka mode a message has a row only once a consumer has taken its record: until then, no status. */
    @Override
    protected void awaitStatus(String id, String status) {
        awaitStatus(id, status, Duration.ofSeconds(30));
    }

    private void awaitStatus(String id, String status, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(50)).until(() -> status.equals(jdbc.queryForList(
                "select status from messages where id = ?", String.class, UUID.fromString(id)).stream()
                .findFirst().orElse(null)));
    }

    private static String idOf(ConsumerRecord<String, byte[]> record) {
        try {
            return JSON.readTree(record.value()).path("id").asText();
        } catch (IOException e) {
            return "";   // a record that is not a message (see aRecordThatIsNotAMessageIsParkedAtOnce)
        }
    }
}
