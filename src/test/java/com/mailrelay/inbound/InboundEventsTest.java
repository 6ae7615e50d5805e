package com.mailrelay.inbound;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.ProviderKeys;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Mailgun and SendGrid post their events, signed as each documents, for workspace "esp": they become
 * the relay's events of the message they name (re-emitted to the workspace's webhook in Mandrill's
 * format) and update its suppression list. Anything not correctly signed, fresh and new is refused
 * and changes nothing. The signatures are computed here independently of the relay's code.
 */
class InboundEventsTest extends RelayTestSupport {

    private static final String MAILGUN_KEY = "mailgun-signing-key";

    @BeforeEach
    void webhookReceiverTakesEverything() {
        Upstreams.webhooks().stubFor(WireMock.post("/esp").willReturn(aResponse().withStatus(200)));
    }

    @AfterEach
    void everyReEmittedEventIsDelivered() {
        // So that no request of this workspace reaches the shared receiver while other tests watch it.
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "select count(*) from events where workspace_id = 'esp' and delivery_state = 'PENDING'",
                Long.class) == 0);
    }

    @Test
    void aMailgunPermanentFailureBouncesTheRecipientAndIsReEmittedInMandrillFormat() {
        String bouncing = "gone-" + System.nanoTime() + "@customer.test";
        String id = submit("esp", message("app@esp.test", bouncing, "mailgun bounce"));
        awaitStatus(id, "SENT");
        String eventId = "mg-" + System.nanoTime();
        Map<String, Object> failed = mailgunEvent(eventId, "failed", bouncing, bareMessageId(id));
        failed.put("severity", "permanent");
        failed.put("reason", "bounce");
        failed.put("delivery-status", Map.of("code", 550, "description", "5.1.1 mailbox does not exist"));

        HttpResponse<String> response = inbound("mailgun", mailgunRequest(MAILGUN_KEY, token(), now(), failed));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(read(response.body())).containsEntry("recorded", 1);
        assertThat(eventTypes(id)).containsExactly("send", "hard_bounce");
        Map<String, Object> detail = read(jdbc.queryForObject(
                "select detail from events where message_id = ? and type = 'hard_bounce'", String.class,
                UUID.fromString(id)));
        assertThat(detail).containsEntry("provider", "mailgun").containsEntry("provider_event", "failed")
                .containsEntry("code", "550").containsKey("occurred_at");
        assertThat(Instant.parse((String) detail.get("occurred_at"))).isCloseTo(Instant.now(),
                org.assertj.core.api.Assertions.within(1, java.time.temporal.ChronoUnit.MINUTES));
        Map<String, Object> recipient = read(recipient(bouncing).body());
        assertThat(recipient).containsEntry("status", "BOUNCED").containsEntry("bounce_count", 1);
        assertThat((String) recipient.get("reason")).contains("mailbox does not exist");

        HttpResponse<String> next = post(key("esp"), message("app@esp.test", bouncing, "after the bounce"), Map.of());
        assertThat(next.statusCode()).isEqualTo(202);
        assertThat(read(next.body())).containsEntry("status", "rejected");

        Map<String, Object> reEmitted = awaitReEmitted(id, "hard_bounce");
        Map<?, ?> msg = (Map<?, ?>) reEmitted.get("msg");
        assertThat(msg.get("email")).isEqualTo(bouncing);
        assertThat(msg.get("state")).isEqualTo("bounced");
        assertThat(msg.get("subject")).isEqualTo("mailgun bounce");
        assertThat(msg.get("bounce_description")).isEqualTo("5.1.1 mailbox does not exist");

        // Mailgun retries the same event, freshly signed: it is taken once.
        HttpResponse<String> retried = inbound("mailgun", mailgunRequest(MAILGUN_KEY, token(), now(), failed));
        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(read(retried.body())).containsEntry("duplicates", 1).containsEntry("recorded", 0);
        assertThat(eventTypes(id)).containsExactly("send", "hard_bounce");
        assertThat(read(recipient(bouncing).body())).containsEntry("bounce_count", 1);
    }

    @Test
    void aMailgunRequestBadlySignedStaleOrReplayedChangesNothing() {
        String address = "reader-" + System.nanoTime() + "@customer.test";
        String id = submit("esp", message("app@esp.test", address, "mailgun refusals"));
        awaitStatus(id, "SENT");
        setStatus(address, "ACTIVE");
        Map<String, Object> complaint = mailgunEvent("mg-" + System.nanoTime(), "complained", address,
                bareMessageId(id));

        HttpResponse<String> forged = inbound("mailgun", mailgunRequest("not-the-key", token(), now(), complaint));
        assertThat(forged.statusCode()).isEqualTo(401);
        assertThat(read(forged.body())).containsEntry("error", "invalid_signature");

        Map<String, Object> unsigned = new LinkedHashMap<>();
        unsigned.put("event-data", complaint);
        assertThat(inbound("mailgun", write(unsigned)).statusCode()).isEqualTo(401);

        long tenMinutesAgo = Instant.now().minusSeconds(600).getEpochSecond();
        assertThat(inbound("mailgun", mailgunRequest(MAILGUN_KEY, token(), tenMinutesAgo, complaint)).statusCode())
                .isEqualTo(401);
        assertThat(eventTypes(id)).containsExactly("send");
        assertThat(read(recipient(address).body())).containsEntry("status", "ACTIVE");

        // A correct request is taken; posting it again (same token) is a replay, and so is its
        // token with other event data (Mailgun's signature covers only timestamp and token).
        String token = token();
        long timestamp = now();
        String original = mailgunRequest(MAILGUN_KEY, token, timestamp, complaint);
        assertThat(inbound("mailgun", original).statusCode()).isEqualTo(200);
        assertThat(read(recipient(address).body())).containsEntry("status", "COMPLAINED");
        HttpResponse<String> replayed = inbound("mailgun", original);
        assertThat(replayed.statusCode()).isEqualTo(401);
        assertThat(read(replayed.body()).get("message").toString()).contains("used before");
        Map<String, Object> unsubscribe = mailgunEvent("mg-" + System.nanoTime(), "unsubscribed", address,
                bareMessageId(id));
        assertThat(inbound("mailgun", mailgunRequest(MAILGUN_KEY, token, timestamp, unsubscribe)).statusCode())
                .isEqualTo(401);
        assertThat(eventTypes(id)).containsExactly("send", "spam");
        assertThat(read(recipient(address).body())).containsEntry("status", "COMPLAINED");
        awaitReEmitted(id, "spam");
    }

    @Test
    void aSignedSendGridBatchRecordsEachEventAndUpdatesSuppression() throws Exception {
        long n = System.nanoTime();
        String complaining = "spam-" + n + "@customer.test";
        String reading = "reader-" + n + "@customer.test";
        String bouncing = "gone-" + n + "@customer.test";
        String leaving = "leaver-" + n + "@customer.test";
        String id = submit("esp", Map.of("from", "app@esp.test", "to", List.of(complaining, reading, bouncing),
                "subject", "sendgrid batch", "text", "x"));
        awaitStatus(id, "SENT");
        String smtpId = messageId(id);

        List<Map<String, Object>> batch = new ArrayList<>();
        batch.add(sendgridEvent("processed", reading, smtpId));
        batch.add(sendgridEvent("spamreport", complaining, smtpId));
        Map<String, Object> open = sendgridEvent("open", reading, null);
        open.put("relay_message_id", id);   // a custom arg instead of the Message-ID
        open.put("ip", "192.0.2.7");
        open.put("useragent", "Mozilla/5.0 (Größe ✓)");   // signed as UTF-8 bytes: verified as received
        batch.add(open);
        Map<String, Object> click = sendgridEvent("click", reading, smtpId);
        click.put("url", "https://example.com/offer");
        click.put("ip", "192.0.2.7");
        batch.add(click);
        Map<String, Object> bounce = sendgridEvent("bounce", bouncing, smtpId);
        bounce.put("type", "bounce");
        bounce.put("reason", "550 5.1.1 unknown user");
        batch.add(bounce);
        // A message the relay cannot tie the event to: the recipient is unsubscribed all the same.
        batch.add(sendgridEvent("unsubscribe", leaving, "<chosen-by-a-client@elsewhere.test>"));
        byte[] body = write(batch).getBytes(StandardCharsets.UTF_8);

        HttpResponse<String> response = sendgrid(body, String.valueOf(now()), ProviderKeys.sendgrid().getPrivate());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(read(response.body())).containsEntry("recorded", 4).containsEntry("unlinked", 1)
                .containsEntry("ignored", 1).containsEntry("duplicates", 0);
        assertThat(eventTypes(id)).containsExactlyInAnyOrder("send", "send", "send", "spam", "open", "click",
                "hard_bounce");
        assertThat(read(recipient(complaining).body())).containsEntry("status", "COMPLAINED");
        assertThat(read(recipient(bouncing).body())).containsEntry("status", "BOUNCED");
        assertThat(read(recipient(leaving).body())).containsEntry("status", "UNSUBSCRIBED");
        assertThat(recipient(reading).statusCode()).as("opens and clicks suppress nobody").isEqualTo(404);

        Map<String, Object> reEmittedClick = awaitReEmitted(id, "click");
        assertThat(reEmittedClick).containsEntry("url", "https://example.com/offer").containsEntry("ip", "192.0.2.7");
        assertThat(((Map<?, ?>) reEmittedClick.get("msg")).get("state")).isEqualTo("sent");
        assertThat(awaitReEmitted(id, "open")).containsEntry("user_agent", "Mozilla/5.0 (Größe ✓)");

        // SendGrid retries the batch: nothing is recorded twice.
        HttpResponse<String> retried = sendgrid(body, String.valueOf(now()), ProviderKeys.sendgrid().getPrivate());
        assertThat(read(retried.body())).containsEntry("duplicates", 5).containsEntry("recorded", 0);
        assertThat(eventTypes(id)).hasSize(7);
    }

    @Test
    void aSendGridRequestNotSignedOverTheBodyAsReceivedChangesNothing() throws Exception {
        String address = "spam-" + System.nanoTime() + "@customer.test";
        String id = submit("esp", message("app@esp.test", address, "sendgrid refusals"));
        awaitStatus(id, "SENT");
        byte[] body = write(List.of(sendgridEvent("spamreport", address, messageId(id))))
                .getBytes(StandardCharsets.UTF_8);
        String timestamp = String.valueOf(now());
        String signature = ecdsa(ProviderKeys.sendgrid().getPrivate(), timestamp, body);

        // Signed, then changed in transit (one more space: same JSON, other bytes).
        byte[] modified = new String(body, StandardCharsets.UTF_8).replace("{", "{ ").getBytes(StandardCharsets.UTF_8);
        assertThat(sendgrid(modified, timestamp, signature).statusCode()).isEqualTo(401);
        assertThat(sendgrid(body, String.valueOf(now() + 1), signature).statusCode())
                .as("the timestamp is signed too").isEqualTo(401);
        assertThat(sendgrid(body, null, (String) null).statusCode()).as("no signature headers").isEqualTo(401);
        assertThat(sendgrid(body, timestamp, ProviderKeys.p256().getPrivate()).statusCode())
                .as("signed with another key").isEqualTo(401);
        String stale = String.valueOf(Instant.now().minusSeconds(600).getEpochSecond());
        assertThat(sendgrid(body, stale, ProviderKeys.sendgrid().getPrivate()).statusCode()).isEqualTo(401);
        HttpResponse<String> garbage = sendgrid(body, timestamp, "bm90IGEgc2lnbmF0dXJl");
        assertThat(garbage.statusCode()).isEqualTo(401);
        assertThat(read(garbage.body())).containsEntry("error", "invalid_signature");

        assertThat(eventTypes(id)).containsExactly("send");
        assertThat(recipient(address).statusCode()).isEqualTo(404);

        // The same bytes with their own signature are taken.
        assertThat(sendgrid(body, timestamp, signature).statusCode()).isEqualTo(200);
        assertThat(eventTypes(id)).containsExactly("send", "spam");
    }

    @Test
    void badRequestsAreRefusedPrecisely() throws Exception {
        HttpResponse<String> malformed = inbound("mailgun", "{\"signature\": {");
        assertThat(malformed.statusCode()).isEqualTo(400);
        assertThat(read(malformed.body())).containsEntry("error", "invalid_request");

        byte[] notJson = "[{\"event\": ".getBytes(StandardCharsets.UTF_8);
        assertThat(sendgrid(notJson, String.valueOf(now()), ProviderKeys.sendgrid().getPrivate()).statusCode())
                .as("signed, but not JSON").isEqualTo(400);
        byte[] notAnArray = "{\"event\": \"open\"}".getBytes(StandardCharsets.UTF_8);
        assertThat(sendgrid(notAnArray, String.valueOf(now()), ProviderKeys.sendgrid().getPrivate()).statusCode())
                .isEqualTo(400);

        Map<String, Object> event = mailgunEvent("mg-" + System.nanoTime(), "opened", "x@customer.test", null);
        HttpResponse<String> unknown = send(HttpRequest.newBuilder(uri("/api/v1/inbound/nobody/mailgun"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(mailgunRequest(MAILGUN_KEY, token(), now(), event))).build());
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(read(unknown.body())).containsEntry("error", "not_found");
        // acme exists but configured no Mailgun key: no endpoint either.
        assertThat(send(HttpRequest.newBuilder(uri("/api/v1/inbound/acme/mailgun"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(mailgunRequest(MAILGUN_KEY, token(), now(), event))).build())
                .statusCode()).isEqualTo(404);
        // Mailgun's legacy webhooks post forms: only the JSON ones are taken.
        assertThat(send(HttpRequest.newBuilder(uri("/api/v1/inbound/esp/mailgun"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("event=opened")).build()).statusCode()).isEqualTo(415);
    }

    @Test
    void anEventNamingAnotherWorkspacesMessageLeavesThatMessageAlone() {
        String address = "shared-" + System.nanoTime() + "@customer.test";
        String acmeMessage = submit("acme", message("app@acme.test", address, "acme's own"));
        awaitStatus(acmeMessage, "SENT");
        Map<String, Object> failed = mailgunEvent("mg-" + System.nanoTime(), "failed", address, null);
        failed.put("severity", "permanent");
        failed.put("user-variables", Map.of("relay_message_id", acmeMessage));

        HttpResponse<String> response = inbound("mailgun", mailgunRequest(MAILGUN_KEY, token(), now(), failed));
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(read(response.body())).containsEntry("unlinked", 1).containsEntry("recorded", 0);
        assertThat(eventTypes(acmeMessage)).containsExactly("send");
        assertThat(read(recipient(address).body())).as("esp's own list").containsEntry("status", "BOUNCED");
        assertThat(get(key("acme"), "/api/v1/recipients/" + address).statusCode()).as("acme's list").isEqualTo(404);
    }

    @Test
    void tokensOutsideTheWindowAndOldEventIdsAreForgotten() {
        String stale = "stale-" + System.nanoTime();
        String fresh = "fresh-" + System.nanoTime();
        jdbc.update("insert into inbound_tokens (workspace_id, provider, token, signed_at) values (?, ?, ?, ?)",
                "esp", "mailgun", stale, java.sql.Timestamp.from(Instant.now().minus(Duration.ofMinutes(6))));
        jdbc.update("insert into inbound_tokens (workspace_id, provider, token, signed_at) values (?, ?, ?, ?)",
                "esp", "mailgun", fresh, java.sql.Timestamp.from(Instant.now()));
        jdbc.update("insert into inbound_events (workspace_id, provider, event_key, received_at) values (?, ?, ?, ?)",
                "esp", "sendgrid", stale, java.sql.Timestamp.from(Instant.now().minus(Duration.ofDays(5))));
        jdbc.update("insert into inbound_events (workspace_id, provider, event_key, received_at) values (?, ?, ?, ?)",
                "esp", "sendgrid", fresh, java.sql.Timestamp.from(Instant.now()));

        await().atMost(Duration.ofSeconds(10)).until(() -> count("inbound_tokens", "token", stale) == 0
                && count("inbound_events", "event_key", stale) == 0);
        assertThat(count("inbound_tokens", "token", fresh)).isEqualTo(1);
        assertThat(count("inbound_events", "event_key", fresh)).isEqualTo(1);
    }

    @Test
    void aProviderEventInAnotherSpellingOfTheAddressSuppressesTheCanonicalOne() {
        String local = "uma-" + System.nanoTime();
        String id = submit("esp", message("app@esp.test", local + "@customer.test", "spelling"));
        awaitStatus(id, "SENT");
        // The provider reports the address in its own spelling: upper case, the domain too.
        Map<String, Object> unsubscribed = mailgunEvent("mg-" + System.nanoTime(), "unsubscribed",
                local.toUpperCase() + "@CUSTOMER.TEST", bareMessageId(id));
        HttpResponse<String> response = inbound("mailgun", mailgunRequest(MAILGUN_KEY, token(), now(), unsubscribed));
        assertThat(read(response.body())).as(response.body()).containsEntry("recorded", 1);
        assertThat(jdbc.queryForObject("select recipient from events where message_id = ? and type = 'unsub'",
                String.class, UUID.fromString(id))).isEqualTo(local.toUpperCase() + "@customer.test");
        assertThat(read(recipient(local + "@customer.test").body())).containsEntry("email", local + "@customer.test")
                .containsEntry("status", "UNSUBSCRIBED");
        // Every later spelling of it is rejected.
        for (String spelling : List.of("\"" + local + "\"@customer.test", "Uma <" + local + "@Customer.Test>")) {
            HttpResponse<String> next = post(key("esp"), message("app@esp.test", spelling, "after"), Map.of());
            assertThat(read(next.body())).as(spelling).containsEntry("status", "rejected");
        }
    }

    private long count(String table, String column, String value) {
        return jdbc.queryForObject("select count(*) from " + table + " where " + column + " = ?", Long.class, value);
    }

    // --- Mailgun: JSON with the signature inside ---

    private static Map<String, Object> mailgunEvent(String id, String event, String recipient, String messageId) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("id", id);
        data.put("timestamp", Instant.now().toEpochMilli() / 1000.0);
        data.put("event", event);
        data.put("recipient", recipient);
        if (messageId != null) {
            data.put("message", Map.of("headers", Map.of("message-id", messageId)));
        }
        return data;
    }

    private static String mailgunRequest(String signingKey, String token, long timestamp, Map<String, Object> data) {
        Map<String, Object> signature = Map.of("timestamp", String.valueOf(timestamp), "token", token,
                "signature", hmacSha256Hex(signingKey, timestamp + token));
        return write(Map.of("signature", signature, "event-data", data));
    }

    private static String hmacSha256Hex(String key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return HexFormat.of().formatHex(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String token() {
        return (UUID.randomUUID().toString() + UUID.randomUUID()).replace("-", "").substring(0, 50);
    }

    // --- SendGrid: a JSON array, ECDSA over timestamp + raw body in two headers ---

    private static Map<String, Object> sendgridEvent(String event, String email, String smtpId) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("email", email);
        data.put("timestamp", Instant.now().getEpochSecond());
        data.put("event", event);
        data.put("sg_event_id", "sg-" + UUID.randomUUID());
        data.put("sg_message_id", "sg-message." + email);
        if (smtpId != null) {
            data.put("smtp-id", smtpId);
        }
        return data;
    }

    private HttpResponse<String> sendgrid(byte[] body, String timestamp, PrivateKey key) throws Exception {
        return sendgrid(body, timestamp, ecdsa(key, timestamp, body));
    }

    private HttpResponse<String> sendgrid(byte[] body, String timestamp, String signature) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/api/v1/inbound/esp/sendgrid"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (timestamp != null) {
            request.header("X-Twilio-Email-Event-Webhook-Timestamp", timestamp);
        }
        if (signature != null) {
            request.header("X-Twilio-Email-Event-Webhook-Signature", signature);
        }
        return send(request.build());
    }

    private static String ecdsa(PrivateKey key, String timestamp, byte[] body) throws GeneralSecurityException {
        Signature signer = Signature.getInstance("SHA256withECDSA");
        signer.initSign(key);
        signer.update(timestamp.getBytes(StandardCharsets.UTF_8));
        signer.update(body);
        return Base64.getEncoder().encodeToString(signer.sign());
    }

    // --- the relay's side ---

    private HttpResponse<String> inbound(String provider, String json) {
        return send(HttpRequest.newBuilder(uri("/api/v1/inbound/esp/" + provider))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static long now() {
        return Instant.now().getEpochSecond();
    }

    /** The Message-ID the upstream received for a message, as SendGrid reports it: "<...>". */
    private static String messageId(String id) throws Exception {
        return Upstreams.received(Upstreams.greenMail("default"), id).get(0).getMessageID();
    }

    /** As Mailgun reports it: without the angle brackets. */
    private static String bareMessageId(String id) {
        try {
            String messageId = messageId(id);
            return messageId.substring(1, messageId.length() - 1);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private HttpResponse<String> recipient(String email) {
        return get(key("esp"), "/api/v1/recipients/" + email);
    }

    private void setStatus(String email, String status) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/api/v1/recipients/" + email))
                .header("Authorization", "Bearer " + key("esp")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"status\": \"" + status + "\"}")).build());
        assertThat(response.statusCode()).isEqualTo(200);
    }

    /** The Mandrill event of this type and message that the workspace's webhook received. */
    private Map<String, Object> awaitReEmitted(String messageId, String type) {
        List<Map<String, Object>> found = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            found.clear();
            received().stream().filter(e -> messageId.equals(e.get("_id")) && type.equals(e.get("event")))
                    .forEach(found::add);
            return !found.isEmpty();
        });
        return found.get(0);
    }

    private static List<Map<String, Object>> received() throws Exception {
        List<Map<String, Object>> events = new ArrayList<>();
        for (ServeEvent request : Upstreams.webhooks().getAllServeEvents()) {
            if (!request.getRequest().getUrl().equals("/esp") || request.getResponse().getStatus() != 200) {
                continue;
            }
            String body = request.getRequest().getBodyAsString();
            events.addAll(MandrillPosts.eventList(body));
        }
        return events;
    }
}
