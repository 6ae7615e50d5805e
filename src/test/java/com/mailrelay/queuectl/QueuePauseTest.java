package com.mailrelay.queuectl;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Pausing delivery per workspace × email type: the paused mail is accepted and waits QUEUED while
 * the rest is delivered; a resume makes it claimable at once. Pauses are audited, listed, in
 * relay_queue_paused, and a workspace key pauses only its own workspace.
 */
class QueuePauseTest extends RelayTestSupport {

    private static final String WORKSPACE = "ops-paused";

    /** Whatever a failed test left behind: other test classes share this relay (and its queue). */
    @AfterEach
    void noPauseLeft() {
        jdbc.update("delete from queue_pauses where workspace_id in ('*', ?)", WORKSPACE);
    }

    @Test
    void pausedMailWaitsQueuedWhileTheRestIsDeliveredAndResumeDeliversIt() {
        HttpResponse<String> paused = pause(key(WORKSPACE), Map.of("email_type", "marketing", "reason", "bounce storm"));
        assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
        assertThat(read(paused.body())).containsEntry("workspace", WORKSPACE).containsEntry("email_type", "marketing")
                .containsEntry("reason", "bounce storm").containsEntry("paused_by", "workspace:" + WORKSPACE);

        String held = submit(WORKSPACE, typed("marketing", "held"));
        String first = submit(WORKSPACE, typed("transactional", "first"));
        awaitStatus(first, "SENT");
        // Claims after the paused message was due have come and gone: a later message is delivered too.
        String second = submit(WORKSPACE, typed("transactional", "second"));
        awaitStatus(second, "SENT");
        assertThat(status(held)).isEqualTo("QUEUED");
        assertThat(row(held).get("attempts")).isEqualTo(0);

        // Listed for the workspace's key, and in every instance's gauge.
        Map<String, Object> list = read(get(key(WORKSPACE), "/api/v1/queue/pauses").body());
        assertThat(list.get("pauses").toString()).contains("marketing", "bounce storm");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(prometheus())
                .contains("relay_queue_paused{email_type=\"marketing\",workspace=\"ops-paused\"} 1.0"));
        // The queue in the stats shows it as paused, not due.
        Map<String, Object> stats = read(get(key(WORKSPACE), "/api/v1/stats").body());
        @SuppressWarnings("unchecked")
        Map<String, Object> queue = (Map<String, Object>) stats.get("queue");
        assertThat(((Number) queue.get("paused")).intValue()).isGreaterThanOrEqualTo(1);

        HttpResponse<String> resumed = resume(key(WORKSPACE), Map.of("email_type", "marketing"));
        assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
        assertThat(resumed.body()).contains("\"still_paused\":[]");
        awaitStatus(held, "SENT");
        assertThat(row(held).get("attempts")).isEqualTo(1);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(prometheus())
                .contains("relay_queue_paused{email_type=\"marketing\",workspace=\"ops-paused\"} 0.0"));

        // Both actions audited, with who and what.
        List<Map<String, Object>> audit = jdbc.queryForList("select action, actor, workspace_id, target from audit_log"
                + " where workspace_id = ? and action like 'queue.%' order by id desc limit 2", WORKSPACE);
        assertThat(audit).extracting(a -> a.get("action")).containsExactly("queue.resume", "queue.pause");
        assertThat(audit).allSatisfy(a -> assertThat(a).containsEntry("actor", "workspace:" + WORKSPACE)
                .containsEntry("target", WORKSPACE + "/marketing"));
    }

    @Test
    void aDeferredMessageWhoseRetryComesDueWaitsWhilePaused() {
        String retrying = "ops-paused-retry";
        // busy*@: always 451 (the scripted upstream), so it is retried until relay.retry.max-attempts (5).
        String id = submit(retrying, Map.of("from", "ops@paused.test", "to",
                List.of("busy-paused-" + System.nanoTime() + "@customer.test"), "subject", "retried", "text", "x"));
        try {
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10))
                    .until(() -> "DEFERRED".equals(status(id)));
            assertThat(pause(key(retrying), Map.of("reason", "hold the retries")).statusCode()).isEqualTo(200);
            int attempts = (Integer) row(id).get("attempts");
            assertThat(status(id)).as("paused before its retries ran out").isEqualTo("DEFERRED");
            assertThat(attempts).isLessThan(5);
            // Its retry (at most relay.retry.max-backoff = 1 s away) comes due, and the claims pass it by.
            await().atMost(Duration.ofSeconds(5)).until(() -> jdbc.queryForObject("select count(*) from messages"
                    + " where id = ? and next_attempt_at < ?", Long.class, UUID.fromString(id),
                    java.sql.Timestamp.from(java.time.Instant.now())) == 1);
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3)).until(() ->
                    "DEFERRED".equals(status(id)) && attempts == (Integer) row(id).get("attempts"));
            // Resumed, the retries go on where they stopped, until they are used up.
            assertThat(resume(key(retrying), Map.of()).statusCode()).isEqualTo(200);
            awaitStatus(id, "FAILED");
            assertThat(row(id).get("attempts")).isEqualTo(5);
        } finally {
            jdbc.update("delete from queue_pauses where workspace_id = ?", retrying);
        }
    }

    @Test
    void aPauseOfEveryWorkspaceHoldsEverythingUntilResumed() {
        String held;
        try {
            HttpResponse<String> paused = pause("admin-key", Map.of("workspace", "*", "reason", "provider incident"));
            assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
            held = submit(WORKSPACE, typed("transactional", "everything"));
            String other = submit(WORKSPACE, typed("system", "everything-else"));
            // Due all along, and many claims (every 50 ms) pass them by.
            String[] waiting = {held, other};
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(3)).until(() ->
                    status(waiting[0]).equals("QUEUED") && status(waiting[1]).equals("QUEUED"));
            // The workspace's own pause of one type outlasts the lifted '*'.
            HttpResponse<String> own = pause(key(WORKSPACE), Map.of("email_type", "system"));
            assertThat(own.statusCode()).isEqualTo(200);
            HttpResponse<String> resumed = resume("admin-key", Map.of("workspace", "*"));
            assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
            awaitStatus(held, "SENT");
            assertThat(status(other)).isEqualTo("QUEUED");
            assertThat(resume(key(WORKSPACE), Map.of("email_type", "system")).statusCode()).isEqualTo(200);
            awaitStatus(other, "SENT");
        } finally {
            jdbc.update("delete from queue_pauses where workspace_id = '*'");
        }
        assertThat(jdbc.queryForObject("select count(*) from audit_log where action = 'queue.pause' and target = '*/*'",
                Long.class)).isGreaterThanOrEqualTo(1);
    }

    @Test
    void keysPauseOnlyWhatTheyMayAndBadRequestsAreNamed() {
        // A workspace key: not another workspace, not every one.
        assertThat(pause(key(WORKSPACE), Map.of("workspace", "ops-stats")).statusCode()).isEqualTo(403);
        assertThat(pause(key(WORKSPACE), Map.of("workspace", "*")).statusCode()).isEqualTo(403);
        assertThat(get(key(WORKSPACE), "/api/v1/queue/pauses?workspace=ops-stats").statusCode()).isEqualTo(403);
        // An admin key names the workspace; fields are checked, each named.
        HttpResponse<String> unnamed = pause("admin-key", Map.of("email_type", "marketing"));
        assertThat(unnamed.statusCode()).isEqualTo(400);
        assertThat(unnamed.body()).contains("workspace");
        HttpResponse<String> bad = pause("admin-key", Map.of("workspace", "no-such-workspace", "email_type", "spam"));
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"field\":\"workspace\"", "\"field\":\"email_type\"");
        assertThat(jdbc.queryForObject("select count(*) from queue_pauses where workspace_id in ('*', ?)", Long.class,
                WORKSPACE)).isZero();
        // Nothing to resume: 404.
        assertThat(resume(key(WORKSPACE), Map.of("email_type", "marketing")).statusCode()).isEqualTo(404);
        // A disabled workspace's pause is its state: neither replaced nor resumed here.
        jdbc.update("insert into queue_pauses (workspace_id, email_type, reason, paused_by, paused_at)"
                + " values (?, '*', 'workspace disabled', 'admin', current_timestamp)", WORKSPACE);
        assertThat(resume("admin-key", Map.of("workspace", WORKSPACE)).statusCode()).isEqualTo(409);
        assertThat(pause("admin-key", Map.of("workspace", WORKSPACE, "reason", "mine now")).statusCode())
                .isEqualTo(409);
        assertThat(jdbc.queryForObject("select reason from queue_pauses where workspace_id = ? and email_type = '*'",
                String.class, WORKSPACE)).isEqualTo("workspace disabled");
    }

    private static Map<String, Object> typed(String type, String subject) {
        String marker = subject + "-" + UUID.randomUUID();
        return Map.of("from", "ops@paused.test", "to", List.of("someone@customer.test"), "subject", marker,
                "text", "Body of " + marker, "type", type);
    }

    private HttpResponse<String> pause(String apiKey, Map<String, Object> body) {
        return postJson(apiKey, "/api/v1/queue/pause", body);
    }

    private HttpResponse<String> resume(String apiKey, Map<String, Object> body) {
        return postJson(apiKey, "/api/v1/queue/resume", body);
    }

    private HttpResponse<String> postJson(String apiKey, String path, Map<String, Object> body) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(write(body))).build());
    }

    private String prometheus() {
        return get("admin-key", "/actuator/prometheus").body();
    }
}
