package com.mailrelay.ratelimit;

import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Limits that defer or refuse (test workspaces q-limit-*): a soft limit accepts what is over its
 * window and holds it QUEUED until a later window with room, with one deferral event naming the
 * limit; a hard one refuses (429 with Retry-After, 451 4.7.1). Per-user limits count the REST
 * user_id, SMTP's X-Relay-User or else the SMTP user name, and a user's custom limits replace the
 * defaults. Every accepted message is delivered in the end.
 */
class LimitModesTest extends RelayTestSupport {

    private static final long SOFT_WINDOW_MILLIS = 2000;
    private static final String SENT_FROM = "sent from ";

    @Test
    void aSoftLimitAcceptsWhatIsOverItsWindowAndDeliversItInALaterOne() {
        // q-limit-soft: 3 messages per 2 s, soft. Eight posted at once span at most two windows at
        // their accept, so at least two of them are held.
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ids.add(submit("q-limit-soft", message("app@soft.test", "soft" + i + "@customer.test", "soft " + i)));
        }
        Map<String, Object> usage = read(get(key("q-limit-soft"), "/api/v1/usage").body());
        @SuppressWarnings("unchecked")
        Map<String, Object> workspace = ((List<Map<String, Object>>) usage.get("workspaces")).get(0);
        @SuppressWarnings("unchecked")
        Map<String, Object> limit = ((List<Map<String, Object>>) workspace.get("limits")).get(0);
        assertThat(limit).containsEntry("per", "workspace").containsEntry("mode", "soft")
                .containsEntry("window_seconds", 2)
                .containsEntry("limit", "workspace q-limit-soft may send 3 messages per 2s");
        assertThat(((Map<?, ?>) limit.get("messages")).get("limit")).isEqualTo(3);

        ids.forEach(id -> awaitStatus(id, "SENT"));
        Map<Long, Integer> perWindow = new TreeMap<>();
        int held = 0;
        for (String id : ids) {
            Map<String, Object> row = row(id);
            Instant queued = instant(row.get("queued_at"));
            List<String> deferrals = jdbc.queryForList("select detail from events where message_id = ? and type = "
                    + "'deferral'", String.class, UUID.fromString(id));
            Instant sent = instant(jdbc.queryForObject("select created_at from events where message_id = ? and type = "
                    + "'send'", Timestamp.class, UUID.fromString(id)));
            long window;
            if (deferrals.isEmpty()) {
                window = Math.floorDiv(queued.toEpochMilli(), SOFT_WINDOW_MILLIS);
            } else {
                held++;
                assertThat(deferrals).as("one deferral event for message %s", id).hasSize(1);
                String reply = (String) read(deferrals.get(0)).get("reply");
                assertThat(reply).contains("soft limit", "workspace q-limit-soft may send 3 messages per 2s");
                Instant from = Instant.parse(reply.substring(reply.indexOf(SENT_FROM) + SENT_FROM.length()));
                // Held until the start of a later window, and not delivered before it.
                assertThat(from.toEpochMilli() % SOFT_WINDOW_MILLIS).isZero();
                assertThat(from).isAfter(queued);
                assertThat(sent).isAfterOrEqualTo(from);
                window = from.toEpochMilli() / SOFT_WINDOW_MILLIS;
            }
            perWindow.merge(window, 1, Integer::sum);
            assertThat(eventTypes(id)).containsOnlyOnce("send");
        }
        System.out.println("q-limit-soft messages per 2 s window: " + perWindow + ", held " + held);
        assertThat(held).isGreaterThanOrEqualTo(2);
        assertThat(perWindow.values()).allMatch(count -> count <= 3);
    }

    @Test
    void aHardLimitRefusesRestWith429AndRetryAfterAndSmtpWith451() {
        // q-limit-hard: one message a day per user; the REST user_id is the user.
        assertThat(post("q-limit-hard", "r1").statusCode()).isEqualTo(202);
        HttpResponse<String> over = post("q-limit-hard", "r1");
        assertThat(over.statusCode()).isEqualTo(429);
        assertThat(read(over.body())).containsEntry("error", "rate_limited");
        assertThat((String) read(over.body()).get("message")).contains("user r1 may be sent 1 messages per 24h");
        assertThat(Long.parseLong(over.headers().firstValue("Retry-After").orElseThrow())).isBetween(1L, 86_400L);

        // Over SMTP the user is the login, or X-Relay-User when the message names one.
        try (SmtpConversation smtp = SmtpConversation.open(this.smtp.port())) {
            assertThat(smtp.login("q-limit-hard", "limited-password")).startsWith("235");
            assertThat(smtp.submit("app@hard.test", "one@customer.test", mail(null, "login 1"))).startsWith("250");
            assertThat(smtp.submit("app@hard.test", "two@customer.test", mail(null, "login 2")))
                    .startsWith("451 4.7.1").contains("user q-limit-hard may be sent 1 messages per 24h");
            assertThat(smtp.send("RSET")).startsWith("250");
            assertThat(smtp.submit("app@hard.test", "three@customer.test", mail("app-user-7", "header 1")))
                    .startsWith("250");
            assertThat(smtp.submit("app@hard.test", "four@customer.test", mail("app-user-7", "header 2")))
                    .startsWith("451 4.7.1").contains("user app-user-7 may be sent 1 messages per 24h");
            assertThat(smtp.send("RSET")).startsWith("250");
            String tooLong = smtp.submit("app@hard.test", "five@customer.test", mail("x".repeat(256), "long"));
            assertThat(tooLong).startsWith("550 5.6.0").contains("X-Relay-User");
        }
        List<Map<String, Object>> rows = jdbc.queryForList("select id, user_id, subject from messages"
                + " where workspace_id = 'q-limit-hard' order by queued_at");
        assertThat(rows).extracting(row -> row.get("user_id")).containsExactly("r1", "q-limit-hard", "app-user-7");
        // The header is an instruction to the relay: not in the stored (and sent) MIME.
        String header = rows.get(2).get("id").toString();
        assertThat(new String((byte[]) row(header).get("raw_mime"))).doesNotContainIgnoringCase("x-relay-user")
                .contains("header 1");
        rows.forEach(row -> awaitStatus(row.get("id").toString(), "SENT"));
    }

    @Test
    void aUsersCustomLimitsReplaceThePerUserDefault() {
        // q-limit-user: one a day per user, but vip may be sent 3 a day and bulk 1 per 2 s (soft).
        assertThat(post("q-limit-user", "plain").statusCode()).isEqualTo(202);
        assertThat(post("q-limit-user", "plain").statusCode()).isEqualTo(429);
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            HttpResponse<String> vip = post("q-limit-user", "vip");
            assertThat(vip.statusCode()).as(vip.body()).isEqualTo(202);
            accepted.add((String) read(vip.body()).get("id"));
        }
        HttpResponse<String> vipOver = post("q-limit-user", "vip");
        assertThat(vipOver.statusCode()).isEqualTo(429);
        assertThat((String) read(vipOver.body()).get("message")).contains("user vip may be sent 3 messages per 24h");

        // bulk's own limit is soft: the second is held for a later window, not refused.
        List<String> bulk = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            HttpResponse<String> response = post("q-limit-user", "bulk");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
            bulk.add((String) read(response.body()).get("id"));
        }
        String second = bulk.get(1);
        assertThat(jdbc.queryForList("select detail from events where message_id = ? and type = 'deferral'",
                String.class, UUID.fromString(second))).singleElement().asString()
                .contains("user bulk may be sent 1 messages per 2s");

        Map<String, Object> usage = read(get(key("q-limit-user"), "/api/rate-limit").body());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> limits = (List<Map<String, Object>>) ((Map<String, Object>)
                ((Map<String, Object>) usage.get("workspaces")).get("q-limit-user")).get("limits");
        assertThat(limits).anySatisfy(l -> assertThat(l).containsEntry("user_id", "vip").containsEntry("used", 3)
                .containsEntry("limit", 3));
        assertThat(limits).anySatisfy(l -> assertThat(l).containsEntry("per", "user").doesNotContainKey("user_id")
                .containsEntry("users", Map.of("plain", 1)));

        accepted.addAll(bulk);
        accepted.forEach(id -> awaitStatus(id, "SENT"));
    }

    @Test
    void aDailyWindowRefusesBesideAShorterOne() {
        // q-limit-daily: 100 a minute and 3 a day.
        List<String> accepted = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            accepted.add(submit("q-limit-daily", message("app@daily.test", "d" + i + "@customer.test", "day " + i)));
        }
        HttpResponse<String> over = post(key("q-limit-daily"), message("app@daily.test", "d3@customer.test",
                "day 3"), Map.of());
        assertThat(over.statusCode()).isEqualTo(429);
        assertThat((String) read(over.body()).get("message")).contains("workspace q-limit-daily may send 3 messages"
                + " per 24h");
        // Retry-After is the rest of the UTC day, not of the minute.
        long retryAfter = Long.parseLong(over.headers().firstValue("Retry-After").orElseThrow());
        long restOfDay = 86_400 - Instant.now().getEpochSecond() % 86_400;
        assertThat(retryAfter).isBetween(restOfDay - 5, restOfDay + 5);
        assertThat(countMessages("q-limit-daily")).isEqualTo(3);
        accepted.forEach(id -> awaitStatus(id, "SENT"));
    }

    @Test
    void limitsAreSetAndShownThroughTheAdminApiAndApplyAtOnce() {
        String id = "q-limit-api-" + UUID.randomUUID().toString().substring(0, 8);
        Map<String, Object> rateLimit = Map.of(
                "limits", List.of(Map.of("window", "1h", "messages", 1, "per", "workspace", "mode", "soft"),
                        Map.of("window", "24h", "messages", 50, "per", "user")),
                "custom_user_limits", Map.of("vip", List.of(Map.of("window", "24h", "messages", 500))));
        HttpResponse<String> created = admin("POST", "/api/v1/workspaces",
                Map.of("id", id, "key_name", "ci", "settings", Map.of("rate_limit", rateLimit)));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String secret = (String) ((Map<?, ?>) read(created.body()).get("api_key")).get("secret");
        String shown = admin("GET", "/api/v1/workspaces/" + id, null).body();
        assertThat(shown).contains("\"mode\":\"hard\"",
                "{\"window\":\"PT1H\",\"messages\":1,\"per\":\"workspace\",\"mode\":\"soft\"}",
                "{\"window\":\"PT24H\",\"messages\":50,\"per\":\"user\",\"mode\":\"hard\"}",
                "\"custom_user_limits\":{\"vip\":[{\"window\":\"PT24H\",\"messages\":500,\"per\":\"user\","
                        + "\"mode\":\"hard\"}]}");

        // In effect at once: the second message of the hour is held for the next one (and then cancelled here).
        assertThat(post(secret, message("app@api.test", "a@customer.test", "first"), Map.of()).statusCode())
                .isEqualTo(202);
        HttpResponse<String> second = post(secret, message("app@api.test", "b@customer.test", "second"), Map.of());
        assertThat(second.statusCode()).isEqualTo(202);
        String heldId = (String) read(second.body()).get("id");
        assertThat(status(heldId)).isEqualTo("QUEUED");
        Instant due = instant(row(heldId).get("next_attempt_at"));
        assertThat(due.getEpochSecond() % 3600).isZero();
        assertThat(due).isAfter(Instant.now());
        assertThat(eventTypes(heldId)).containsExactly("deferral");
        // Accounted for: held with its reason, then cancelled (not left to be sent an hour after this test).
        HttpResponse<String> cancelled = send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
                "http://127.0.0.1:" + port + "/api/v1/messages/" + heldId)).header("Authorization", "Bearer " + secret)
                .DELETE().build());
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        assertThat(status(heldId)).isEqualTo("CANCELLED");

        // Each bad field is named.
        HttpResponse<String> bad = admin("PATCH", "/api/v1/workspaces/" + id, Map.of("rate_limit", Map.of(
                "mode", "sometimes",
                "limits", List.of(Map.of("window", "1h", "messages", 1), Map.of("window", "1h", "messages", 2),
                        Map.of("messages", 3, "per", "team")),
                "custom_user_limits", Map.of("vip", List.of(Map.of("window", "0s", "messages", 1, "per", "user"))))));
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
        assertThat(bad.body()).contains("rate_limit.mode", "rate_limit.limits[1]", "rate_limit.limits[2].window",
                "rate_limit.limits[2].per", "rate_limit.custom_user_limits.vip[0].window",
                "rate_limit.custom_user_limits.vip[0].per");
    }

    private HttpResponse<String> admin(String method, String path, Object body) {
        java.net.http.HttpRequest.Builder request = java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer admin-key");
        if (body == null) {
            request.method(method, java.net.http.HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, java.net.http.HttpRequest.BodyPublishers.ofString(write(body)));
        }
        return send(request.build());
    }

    private HttpResponse<String> post(String workspace, String user) {
        Map<String, Object> body = new HashMap<>(message("app@" + workspace + ".test", "reader@customer.test",
                "for " + user));
        body.put("user_id", user);
        return post(key(workspace), body, Map.of());
    }

    private static String mail(String relayUser, String subject) {
        return (relayUser == null ? "" : "X-Relay-User: " + relayUser + "\r\n") + "Subject: " + subject
                + "\r\n\r\n" + subject + "\r\n";
    }

    private static Instant instant(Object value) {
        if (value instanceof Timestamp timestamp) {
            return timestamp.toInstant();
        }
        if (value instanceof java.time.OffsetDateTime offset) {
            return offset.toInstant();
        }
        throw new IllegalArgumentException("not a time: " + value);
    }

}
