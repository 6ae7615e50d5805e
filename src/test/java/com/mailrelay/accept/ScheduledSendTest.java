package com.mailrelay.accept;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.message.MessageIds;
import com.mailrelay.store.MessageQueries;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.TestDatabaseEnvironment;
import com.mailrelay.support.Upstreams;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Scheduled send: a message with a send time ahead (REST send_at, SMTP X-Relay-Send-At or
 * Mandrill's X-MC-SendAt) is stored QUEUED and reaches the upstream only once that time has come;
 * it is listed as scheduled meanwhile and can be cancelled. Workspace q-sched, whose mail goes to
 * the default GreenMail upstream (test-routes/q-sched.camel.yaml).
 */
class ScheduledSendTest extends RelayTestSupport {

    private static final String WS = "q-sched";
    private static final Duration AHEAD = Duration.ofSeconds(3);

    @Autowired
    MessageQueries queries;

    private static boolean warm;

    /**
     * One plain message through accept and delivery first: the first request of a freshly started
     * relay can take seconds, and a send time 3 s ahead must still be ahead once it is stored.
     */
    @BeforeEach
    void warmUp() {
        if (!warm) {
            awaitStatus(submit(WS, message("app@sched.test", unique("warm-up"), "warm-up")), "SENT");
            warm = true;
        }
    }

    @Test
    void aMessageScheduledAheadIsHeldUntilItsTimeThenDeliveredOnce() {
        String to = unique("later");
        Instant sendAt = Instant.now().plus(AHEAD).truncatedTo(ChronoUnit.MILLIS);
        String id = submit(WS, withSendAt(message("app@sched.test", to, "later"), sendAt.toString()));

        Map<String, Object> row = row(id);
        assertThat(row.get("status")).isEqualTo("QUEUED");
        assertThat(instant(row.get("send_at"))).isEqualTo(sendAt);
        assertThat(instant(row.get("next_attempt_at"))).as("held until its send time").isEqualTo(sendAt);

        // Listed as scheduled, with its send time, and so in its detail.
        assertThat(scheduledIds()).containsKey(id);
        assertThat(Instant.parse(scheduledIds().get(id))).isEqualTo(sendAt);
        Map<String, Object> detail = read(get(key(WS), "/api/v1/messages/" + id).body());
        assertThat(Instant.parse((String) detail.get("send_at"))).isEqualTo(sendAt);

        awaitHeldThenDelivered(List.of(id), List.of(to), sendAt);
        Map<String, Object> sent = row(id);
        assertThat(sent.get("attempts")).isEqualTo(1);
        assertThat(instant(sent.get("sent_at"))).isAfterOrEqualTo(sendAt);
        assertThat(eventTypes(id)).containsExactly("send");
        // Once sent, no longer scheduled; its send time stays in its views.
        assertThat(scheduledIds()).doesNotContainKey(id);
        assertThat(read(get(key(WS), "/api/v1/messages/" + id).body())).containsEntry("status", "SENT")
                .containsKey("send_at");
    }

    @Test
    void aScheduledMessageCancelledBeforeItsTimeNeverReachesTheUpstream() {
        String to = unique("cancelled");
        Instant sendAt = Instant.now().plus(AHEAD).truncatedTo(ChronoUnit.MILLIS);
        String id = submit(WS, withSendAt(message("app@sched.test", to, "cancelled"), sendAt.toString()));

        HttpResponse<String> cancel = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/v1/messages/" + id)).header("Authorization", "Bearer " + key(WS)).DELETE().build());
        assertThat(cancel.statusCode()).as(cancel.body()).isEqualTo(200);
        assertThat(read(cancel.body())).containsEntry("status", "CANCELLED").containsEntry("previous_status", "QUEUED");
        assertThat(scheduledIds()).doesNotContainKey(id);

        // Past its send time, many claims (every 50 ms) have come and gone: it stays cancelled, untried.
        await().atMost(Duration.ofSeconds(10)).until(() -> Instant.now().isAfter(sendAt.plusMillis(1000)));
        assertThat(status(id)).isEqualTo("CANCELLED");
        assertThat(row(id).get("attempts")).isEqualTo(0);
        assertThat(receivedBy(to)).isEmpty();
        assertThat(eventTypes(id)).containsExactly("operator.cancel");
    }

    @Test
    void sendAtIsCanonicalAndBoundedAndAPastTimeSendsNow() {
        long before = countMessages(WS);
        Instant now = Instant.now();
        HttpResponse<String> far = post(key(WS), withSendAt(message("app@sched.test", unique("far"), "far"),
                now.plus(Duration.ofDays(31)).toString()), Map.of());
        assertThat(far.statusCode()).isEqualTo(400);
        assertThat(far.body()).contains("\"field\":\"send_at\"").contains("horizon of 30d")
                .contains("relay.scheduling.horizon");
        for (Object bad : List.of("tomorrow", "2026-12-01T10:00:00", "2026-12-01 10:00:00Z", "2026-12-01t10:00:00z",
                "2027-02-30T10:00:00Z", "2026-12-01T24:00:00Z", "2026-12-01T10:00:00+25:00", "0001-01-01T00:00:00Z",
                "+12026-12-01T10:00:00Z", "2026-12-01T10:00:00.1234567890Z", "", 1764583200, true)) {
            HttpResponse<String> refused = post(key(WS), withSendAt(message("app@sched.test", unique("bad"), "bad"),
                    bad), Map.of());
            assertThat(refused.statusCode()).as(String.valueOf(bad)).isEqualTo(400);
            assertThat(refused.body()).as(String.valueOf(bad)).contains("\"field\":\"send_at\"");
        }
        assertThat(countMessages(WS)).as("nothing stored").isEqualTo(before);

        // send_at is part of the request an Idempotency-Key stands for: another time is another request.
        String key = "sched-" + System.nanoTime();
        Map<String, Object> digest = message("app@sched.test", unique("digest"), "digest");
        String first = now.plus(Duration.ofHours(1)).toString();
        HttpResponse<String> once = post(key(WS), withSendAt(digest, first), Map.of("Idempotency-Key", key));
        assertThat(once.statusCode()).as(once.body()).isEqualTo(202);
        String scheduled = (String) read(once.body()).get("id");
        assertThat(read(post(key(WS), withSendAt(digest, first), Map.of("Idempotency-Key", key)).body()))
                .containsEntry("id", scheduled);
        HttpResponse<String> other = post(key(WS), withSendAt(digest, now.plus(Duration.ofHours(2)).toString()),
                Map.of("Idempotency-Key", key));
        assertThat(other.statusCode()).as(other.body()).isEqualTo(422);
        assertThat(send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/messages/"
                + scheduled)).header("Authorization", "Bearer " + key(WS)).DELETE().build()).statusCode()).isEqualTo(200);

        // A time in the past (another offset, fractions of a second) sends now, and is kept as asked.
        String to = unique("past");
        String past = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSxxx")
                .format(now.minus(Duration.ofHours(1)).atOffset(ZoneOffset.ofHours(-5)));
        String id = submit(WS, withSendAt(message("app@sched.test", to, "past"), past));
        awaitStatus(id, "SENT");
        assertThat(receivedBy(to)).hasSize(1);
        assertThat(instant(row(id).get("send_at"))).isEqualTo(Instant.parse(
                now.minus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS).toString()));
        assertThat(scheduledIds()).doesNotContainKey(id);
        // The scheduled filter takes true or false, and lists QUEUED messages only.
        assertThat(get(key(WS), "/api/v1/messages?scheduled=soon").body()).contains("\"field\":\"scheduled\"");
        assertThat(get(key(WS), "/api/v1/messages?scheduled=true&status=SENT").statusCode()).isEqualTo(400);
    }

    @Test
    void smtpSendTimeHeadersHoldTheMessageAndNeverReachTheUpstream() throws Exception {
        Instant sendAt = Instant.now().plus(AHEAD).truncatedTo(ChronoUnit.MILLIS);
        // Mandrill's form is whole seconds, UTC: the next whole second at least AHEAD from now.
        Instant mandrillAt = Instant.now().plus(AHEAD).truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);
        String relayTo = unique("smtp-relay");
        String mandrillTo = unique("smtp-mandrill");
        String relayId;
        String mandrillId;
        try (SmtpConversation smtp = SmtpConversation.open(this.smtp.port())) {
            assertThat(smtp.login("q-sched", "q-sched-password")).startsWith("235");
            relayId = queuedId(smtp.submit("app@sched.test", relayTo, data(relayTo,
                    "X-Relay-Send-At: " + DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(sendAt.atOffset(
                            ZoneOffset.ofHoursMinutes(5, 30))) + "\r\n")));
            mandrillId = queuedId(smtp.submit("app@sched.test", mandrillTo, data(mandrillTo, "X-MC-SendAt: "
                    + DateTimeFormatter.ofPattern("uuuu-MM-dd HH:mm:ss").format(mandrillAt.atOffset(ZoneOffset.UTC))
                    + "\r\n")));

            long before = countMessages(WS);
            for (String[] bad : List.of(
                    new String[] {"X-Relay-Send-At: 2026-12-01 10:00:00\r\n", "550 5.6.0 X-Relay-Send-At must be"},
                    new String[] {"X-Relay-Send-At: " + Instant.now().plus(Duration.ofDays(40)) + "\r\n",
                            "550 5.6.0 X-Relay-Send-At is more than the scheduling horizon of 30d"},
                    new String[] {"X-MC-SendAt: 2026-12-01T10:00:00Z\r\n", "550 5.6.0 X-MC-SendAt must be"},
                    new String[] {"X-Relay-Send-At: " + sendAt + "\r\nX-MC-SendAt: 2026-12-01 10:00:00\r\n",
                            "550 5.6.0 X-Relay-Send-At: give one send time"})) {
                // No RSET between them: a refused DATA ends its transaction (RFC 5321 4.1.1.4), so
                // the next MAIL FROM starts a new one.
                assertThat(smtp.submit("app@sched.test", unique("smtp-bad"), data("x@customer.test", bad[0])))
                        .as(bad[0]).startsWith(bad[1]);
            }
            assertThat(countMessages(WS)).as("nothing stored").isEqualTo(before);
        }

        assertThat(instant(row(relayId).get("send_at"))).isEqualTo(sendAt);
        assertThat(instant(row(mandrillId).get("send_at"))).isEqualTo(mandrillAt);
        for (String id : List.of(relayId, mandrillId)) {
            String stored = new String((byte[]) row(id).get("raw_mime"), StandardCharsets.UTF_8);
            assertThat(stored).doesNotContainIgnoringCase("X-Relay-Send-At").doesNotContainIgnoringCase("X-MC-SendAt")
                    .contains("X-Kept: yes");
        }
        awaitHeldThenDelivered(List.of(relayId), List.of(relayTo), sendAt);
        awaitHeldThenDelivered(List.of(mandrillId), List.of(mandrillTo), mandrillAt);
        for (String to : List.of(relayTo, mandrillTo)) {
            MimeMessage arrived = receivedBy(to).get(0);
            assertThat(arrived.getHeader("X-Relay-Send-At")).isNull();
            assertThat(arrived.getHeader("X-MC-SendAt")).isNull();
            assertThat(arrived.getHeader("X-Kept")).containsExactly("yes");
        }
    }

    /** Tracking on (marketing): one copy per recipient, every one of them held, not only the first. */
    @Test
    void everyPersonalisedCopyIsHeldUntilTheSendTime() {
        Instant sendAt = Instant.now().plus(AHEAD).truncatedTo(ChronoUnit.MILLIS);
        List<String> to = List.of(unique("copy-a"), unique("copy-b"), unique("copy-c"));
        // Each copy's subject names its recipient: every copy's To header names all three.
        String run = Long.toString(System.nanoTime());
        List<String> subjects = List.of("Hello Ann " + run, "Hello Bo " + run, "Hello Cy " + run);
        Map<String, Object> names = new HashMap<>();
        for (int i = 0; i < to.size(); i++) {
            names.put(to.get(i), Map.of("first_name", subjects.get(i).substring(6)));
        }
        Map<String, Object> body = new HashMap<>(Map.of("from", "news@sched.test", "to", to, "subject",
                "Hello {{first_name}}", "type", "marketing", "html",
                "<p>Read <a href=\"https://example.com/news\">the news</a></p>", "send_at", sendAt.toString(),
                "recipient_variables", names));
        HttpResponse<String> response = post(key(WS), body, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> parts = (List<Map<String, Object>>) read(response.body()).get("messages");
        assertThat(parts).hasSize(3);
        List<String> ids = parts.stream().map(p -> (String) p.get("id")).toList();
        for (String id : ids) {
            Map<String, Object> row = row(id);
            assertThat(row.get("status")).isEqualTo("QUEUED");
            assertThat(row.get("batch_id").toString()).isEqualTo(ids.get(0));
            assertThat(instant(row.get("next_attempt_at"))).as("copy %s held", id).isEqualTo(sendAt);
            assertThat(instant(row.get("send_at"))).isEqualTo(sendAt);
        }
        assertThat(scheduledIds()).containsKeys(ids.toArray(String[]::new));

        awaitHeldThenDelivered(ids, subjects, sendAt);
        for (String id : ids) {
            assertThat(eventTypes(id)).containsExactly("send");
        }
    }

    /**
     * scheduled=true is the range of a status index (QUEUED) with send_at matched inside it: on
     * PostgreSQL an ordered index range, never a sort, for a workspace and for the admin.
     */
    @Test
    void theScheduledListingReadsAStatusIndexWithoutSorting() {
        boolean postgres = TestDatabaseEnvironment.postgres();
        Instant base = Instant.now().minus(45, ChronoUnit.DAYS);
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            UUID id = MessageIds.next();
            byte[] mime = ("Subject: plan " + i + "\r\n\r\nx\r\n").getBytes(StandardCharsets.US_ASCII);
            rows.add(new Object[] {id, WS, "transactional", "app@sched.test", "[\"plan-" + i + "@customer.test\"]",
                    mime, mime.length, "SENT", Timestamp.from(base.plusMillis(i)), Timestamp.from(base.plusMillis(i))});
        }
        jdbc.batchUpdate("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, raw_mime, size_bytes, status,
                                      queued_at, updated_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows);
        jdbc.execute(postgres ? "analyze messages" : "analyze table messages");
        MessageQueries.Cursor cursor = new MessageQueries.Cursor(base.plusMillis(100), UUID.randomUUID());
        for (String workspace : new String[] {WS, null}) {
            MessageQueries.Filter filter = new MessageQueries.Filter(workspace, null, null, null, null, null, null, null,
                    Instant.now());
            String plan = String.join("\n", queries.plan(filter, cursor, 20)).toLowerCase(Locale.ROOT);
            assertThat(plan).as(plan).containsPattern("messages_[a-z_]*status_listing");
            if (postgres) {
                assertThat(plan).as(plan).contains("index scan").doesNotContain("sort");
            }
        }
    }

    /**
     * Each message stays QUEUED, untried and away from the upstream until its send time (checked on
     * every poll until just before it); then it is delivered, and not before that time.
     */
    private void awaitHeldThenDelivered(List<String> ids, List<String> markers, Instant sendAt) {
        while (Instant.now().isBefore(sendAt.minusMillis(150))) {
            for (String id : ids) {
                Map<String, Object> row = row(id);
                assertThat(row.get("status")).as("%s before its send time", id).isEqualTo("QUEUED");
                assertThat(row.get("attempts")).isEqualTo(0);
            }
            for (String marker : markers) {
                assertThat(receivedBy(marker)).as("%s before the send time", marker).isEmpty();
            }
            sleepQuietly();
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).untilAsserted(() -> {
            for (String id : ids) {
                assertThat(status(id)).isEqualTo("SENT");
            }
        });
        for (String id : ids) {
            assertThat(instant(row(id).get("sent_at"))).as("sent at or after its send time").isAfterOrEqualTo(sendAt);
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            for (String marker : markers) {
                assertThat(receivedBy(marker)).as(marker).hasSize(1);
            }
        });
    }

    private static void sleepQuietly() {
        // A poll of the queue's state, not a wait for it: the loop's own clock ends it.
        await().pollDelay(Duration.ofMillis(50)).atMost(Duration.ofSeconds(1)).until(() -> true);
    }

    /** The scheduled messages of the workspace (id → send_at), all pages. */
    private Map<String, String> scheduledIds() {
        Map<String, String> ids = new HashMap<>();
        String cursor = null;
        do {
            HttpResponse<String> response = get(key(WS), "/api/v1/messages?scheduled=true&limit=1000"
                    + (cursor == null ? "" : "&cursor=" + cursor));
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            Map<String, Object> page = read(response.body());
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> messages = (List<Map<String, Object>>) page.get("messages");
            for (Map<String, Object> m : messages) {
                assertThat(m).containsEntry("status", "QUEUED").containsKey("send_at");
                ids.put((String) m.get("id"), (String) m.get("send_at"));
            }
            cursor = (String) page.get("next_cursor");
        } while (cursor != null);
        return ids;
    }

    /**
     * What the default upstream received for {@code marker}: a test's unique recipient address (in
     * the To header) or a personalised copy's subject.
     */
    private static List<MimeMessage> receivedBy(String marker) {
        GreenMail upstream = Upstreams.greenMail("default");
        List<MimeMessage> found = new ArrayList<>();
        for (MimeMessage m : upstream.getReceivedMessages()) {
            try {
                String to = m.getHeader("To", ",");
                if (to != null && to.contains(marker) || marker.equals(m.getSubject())) {
                    found.add(m);
                }
            } catch (MessagingException e) {
                throw new IllegalStateException(e);
            }
        }
        return found;
    }

    private static String data(String to, String headers) {
        return "From: app@sched.test\r\nTo: " + to + "\r\nSubject: scheduled over SMTP\r\n" + headers
                + "X-Kept: yes\r\n\r\nbody\r\n";
    }

    private static final Pattern QUEUED_AS = Pattern.compile("^250 2\\.0\\.0 Ok: queued as (\\S+)");

    private static String queuedId(String reply) {
        Matcher matcher = QUEUED_AS.matcher(reply);
        assertThat(matcher.find()).as(reply).isTrue();
        return matcher.group(1);
    }

    private static Map<String, Object> withSendAt(Map<String, Object> message, Object sendAt) {
        Map<String, Object> body = new HashMap<>(message);
        body.put("send_at", sendAt);
        return body;
    }

    private static String unique(String name) {
        return "sched-" + name + "-" + System.nanoTime() + "@customer.test";
    }

    private static Instant instant(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof Timestamp timestamp) {
            return timestamp.toInstant();
        }
        if (value instanceof java.time.OffsetDateTime offset) {
            return offset.toInstant();
        }
        throw new IllegalArgumentException("not a time: " + value.getClass());
    }
}
