package com.mailrelay.retention;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.support.RelayTestSupport;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.support.TransactionTemplate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retention deletes exactly what its settings say and nothing that is still due. Rows are written
 * with final states and ages on both sides of each window, and due rows (QUEUED, DEFERRED, SENDING,
 * and a SENT row with a next attempt) older than every window; the runs are scoped to this test's
 * workspaces (ops-retention: raw MIME 2d, messages 5d; ops-retention-b: the defaults 7d, 30d;
 * ops-retention-long: messages 90d), so no other test's rows are touched.
 */
class RetentionTest extends RelayTestSupport {

    private static final List<String> FINAL = List.of("SENT", "FAILED", "REJECTED", "CANCELLED");
    private static final byte[] MIME = "Subject: kept\r\n\r\nbody\r\n".getBytes(StandardCharsets.US_ASCII);

    @Autowired
    CamelContext camel;

    @Autowired
    MeterRegistry meters;

    @Autowired
    TransactionTemplate transaction;

    @Test
    void aRunDropsAndDeletesExactlyWhatTheWindowsSayAndTheDryRunCountedIt() {
        Instant now = Instant.now();
        Map<String, UUID> fresh = new LinkedHashMap<>();
        Map<String, UUID> mimeDropped = new LinkedHashMap<>();
        Map<String, UUID> deleted = new LinkedHashMap<>();
        for (String status : FINAL) {
            fresh.put(status, message("ops-retention", status, now.minus(Duration.ofDays(1)), false));
            mimeDropped.put(status, message("ops-retention", status, now.minus(Duration.ofDays(3)), false));
            deleted.put(status, message("ops-retention", status, now.minus(Duration.ofDays(6)), false));
        }
        // More than a batch (batch-size 2 in the tests) of one status on each side.
        List<UUID> moreMime = List.of(message("ops-retention", "SENT", now.minus(Duration.ofDays(3)), false),
                message("ops-retention", "SENT", now.minus(Duration.ofDays(4)), false));
        List<UUID> moreDeleted = List.of(message("ops-retention", "SENT", now.minus(Duration.ofDays(7)), false),
                message("ops-retention", "SENT", now.minus(Duration.ofDays(300)), false));
        // Due (a next attempt is set) and older than every window: never touched.
        Duration ancient = Duration.ofDays(400);
        List<UUID> due = List.of(message("ops-retention", "QUEUED", now.minus(ancient), true),
                message("ops-retention", "DEFERRED", now.minus(ancient), true),
                message("ops-retention", "SENDING", now.minus(ancient), true),
                message("ops-retention", "SENT", now.minus(ancient), true));
        // An event waiting for a webhook for 8 days is given up; one waiting 6 days is not.
        long expires = event(fresh.get("SENT"), "ops-retention", "PENDING", now.minus(Duration.ofDays(8)));
        long expiresToo = event(fresh.get("FAILED"), "ops-retention", "PENDING", now.minus(Duration.ofDays(9)));
        long waits = event(fresh.get("SENT"), "ops-retention", "PENDING", now.minus(Duration.ofDays(6)));
        // The logs by their time: attempts 30d, audit 365d.
        long oldAttempt = deliveryAttempt(fresh.get("FAILED"), "ops-retention", now.minus(Duration.ofDays(31)));
        long keptAttempt = deliveryAttempt(fresh.get("FAILED"), "ops-retention", now.minus(Duration.ofDays(29)));
        long oldWebhookAttempt = webhookAttempt("ops-retention", now.minus(Duration.ofDays(31)));
        long keptWebhookAttempt = webhookAttempt("ops-retention", now.minus(Duration.ofDays(29)));
        long oldAudit = audit("ops-retention", now.minus(Duration.ofDays(366)));
        long keptAudit = audit("ops-retention", now.minus(Duration.ofDays(364)));
        // Another workspace, by the defaults: its rows are not this run's.
        UUID otherOld = message("ops-retention-b", "SENT", now.minus(Duration.ofDays(40)), false);
        UUID otherMime = message("ops-retention-b", "SENT", now.minus(Duration.ofDays(10)), false);

        // The dry run, for the admin and for the workspace's own key, changes nothing.
        Map<String, Object> expected = Map.of("raw_mime", 6, "messages", 6, "events", 6,
                "webhook_events_expired", 2, "delivery_attempts", 1, "webhook_attempts", 1, "audit_log", 1);
        Map<String, Object> preview = read(get("admin-key", "/api/v1/retention?workspace=ops-retention").body());
        assertThat(preview).containsEntry("dry_run", true);
        assertThat(preview.get("total")).isEqualTo(expected);
        assertThat(workspaceEntry(preview, "ops-retention")).containsEntry("raw_mime_after", "PT48H")
                .containsEntry("messages_after", "PT120H");
        assertThat(read(get(key("ops-retention"), "/api/v1/retention").body()).get("total")).isEqualTo(expected);
        assertThat(get(key("ops-retention"), "/api/v1/retention?workspace=ops-retention-b").statusCode())
                .isEqualTo(403);
        assertThat(rawMime(deleted.get("SENT"))).isNotNull();

        // Running it needs the admin key; a workspace key changes nothing.
        assertThat(run(key("ops-retention"), "ops-retention").statusCode()).isEqualTo(403);
        assertThat(exists(deleted.get("SENT"))).isTrue();
        double counted = meters.counter("relay.retention.rows", "kind", "messages").count();
        HttpResponse<String> ran = run("admin-key", "ops-retention");
        assertThat(ran.statusCode()).as(ran.body()).isEqualTo(200);
        Map<String, Object> done = read(ran.body());
        assertThat(done).containsEntry("dry_run", false);
        assertThat(done.get("total")).isEqualTo(expected);

        assertThat(meters.counter("relay.retention.rows", "kind", "messages").count()).isEqualTo(counted + 6);
        for (String status : FINAL) {
            assertThat(rawMime(fresh.get(status))).as(status).isEqualTo(MIME);
            assertThat(eventCount(fresh.get(status))).isPositive();
            assertThat(exists(mimeDropped.get(status))).as(status).isTrue();
            assertThat(rawMime(mimeDropped.get(status))).as(status).isNull();
            assertThat(eventCount(mimeDropped.get(status))).as(status).isEqualTo(1);
            assertThat(exists(deleted.get(status))).as(status).isFalse();
            assertThat(eventCount(deleted.get(status))).as(status).isZero();
        }
        moreMime.forEach(id -> assertThat(rawMime(id)).isNull());
        moreDeleted.forEach(id -> assertThat(exists(id)).isFalse());
        for (UUID id : due) {
            assertThat(rawMime(id)).isEqualTo(MIME);
            assertThat(eventCount(id)).isEqualTo(1);
        }
        assertThat(deliveryState(expires)).isEqualTo("EXPIRED");
        assertThat(deliveryState(expiresToo)).isEqualTo("EXPIRED");
        assertThat(deliveryState(waits)).isEqualTo("PENDING");
        assertThat(ids("delivery_attempts", oldAttempt, keptAttempt)).containsExactly(keptAttempt);
        assertThat(ids("webhook_attempts", oldWebhookAttempt, keptWebhookAttempt)).containsExactly(keptWebhookAttempt);
        assertThat(ids("audit_log", oldAudit, keptAudit)).containsExactly(keptAudit);
        assertThat(rawMime(otherOld)).isEqualTo(MIME);
        assertThat(rawMime(otherMime)).isEqualTo(MIME);

        // Audited with its counts; and the next dry run finds nothing left.
        Map<String, Object> entry = jdbc.queryForMap("select * from audit_log where action = 'retention.run'"
                + " and workspace_id = 'ops-retention' order by id desc limit 1");
        assertThat(entry.get("actor")).isEqualTo("admin");
        assertThat((String) entry.get("change_json")).contains("\"messages\":6", "\"raw_mime\":6");
        Map<String, Object> after = read(get("admin-key", "/api/v1/retention?workspace=ops-retention").body());
        assertThat(after.get("total")).isEqualTo(Map.of("raw_mime", 0, "messages", 0, "events", 0,
                "webhook_events_expired", 0, "delivery_attempts", 0, "webhook_attempts", 0, "audit_log", 0));
    }

    @Test
    void aWorkspacesOwnWindowsBeatTheDefaultsEitherWay() {
        Instant now = Instant.now();
        // ops-retention-b: the defaults (raw MIME 7d, messages 30d).
        UUID bKept = message("ops-retention-b", "SENT", now.minus(Duration.ofDays(6)), false);
        UUID bMime = message("ops-retention-b", "FAILED", now.minus(Duration.ofDays(10)), false);
        UUID bGone = message("ops-retention-b", "SENT", now.minus(Duration.ofDays(40)), false);
        // ops-retention-long: messages 90d, raw MIME by the default 7d.
        UUID longKept = message("ops-retention-long", "SENT", now.minus(Duration.ofDays(40)), false);
        UUID longGone = message("ops-retention-long", "CANCELLED", now.minus(Duration.ofDays(100)), false);

        for (String workspace : List.of("ops-retention-b", "ops-retention-long")) {
            Object preview = read(get("admin-key", "/api/v1/retention?workspace=" + workspace).body()).get("total");
            HttpResponse<String> ran = run("admin-key", workspace);
            assertThat(ran.statusCode()).as(ran.body()).isEqualTo(200);
            assertThat(read(ran.body()).get("total")).as(workspace).isEqualTo(preview);
        }

        assertThat(rawMime(bKept)).isEqualTo(MIME);
        assertThat(rawMime(bMime)).isNull();
        assertThat(exists(bMime)).isTrue();
        assertThat(exists(bGone)).isFalse();
        assertThat(exists(longKept)).isTrue();
        assertThat(rawMime(longKept)).isNull();
        assertThat(exists(longGone)).isFalse();
    }

    @Test
    void twoRunsAtOnceShareTheWorkAndBreakNothing() throws Exception {
        Instant now = Instant.now();
        List<UUID> gone = new java.util.ArrayList<>();
        List<UUID> emptied = new java.util.ArrayList<>();
        for (int i = 0; i < 9; i++) {
            gone.add(message("ops-retention-twice", FINAL.get(i % 4), now.minus(Duration.ofDays(40 + i)), false));
            emptied.add(message("ops-retention-twice", FINAL.get(i % 4), now.minus(Duration.ofDays(10 + i)), false));
        }
        UUID queued = message("ops-retention-twice", "QUEUED", now.minus(Duration.ofDays(100)), true);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            List<java.util.concurrent.Future<HttpResponse<String>>> runs = pool.invokeAll(List.of(
                    () -> run("admin-key", "ops-retention-twice"), () -> run("admin-key", "ops-retention-twice")));
            long messages = 0;
            long mime = 0;
            for (var future : runs) {
                HttpResponse<String> ran = future.get(60, java.util.concurrent.TimeUnit.SECONDS);
                assertThat(ran.statusCode()).as(ran.body()).isEqualTo(200);
                @SuppressWarnings("unchecked")
                Map<String, Object> total = (Map<String, Object>) read(ran.body()).get("total");
                messages += ((Number) total.get("messages")).longValue();
                mime += ((Number) total.get("raw_mime")).longValue();
            }
            // Each row was done once, by one of them.
            assertThat(messages).isEqualTo(9);
            assertThat(mime).isEqualTo(9);
        } finally {
            pool.shutdownNow();
        }
        gone.forEach(id -> assertThat(exists(id)).isFalse());
        emptied.forEach(id -> assertThat(rawMime(id)).isNull());
        assertThat(rawMime(queued)).isEqualTo(MIME);
    }

    @Test
    void aBatchHoldingItsRowsDoesNotHoldUpClaims() throws Exception {
        Instant now = Instant.now();
        for (int i = 0; i < 3; i++) {
            message("ops-retention-twice", FINAL.get(i), now.minus(Duration.ofDays(60)), false);
        }
        java.util.concurrent.CountDownLatch locked = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        // What a retention batch holds while it deletes: the finished rows it chose, locked.
        Thread batch = new Thread(() -> transaction.execute(tx -> {
            jdbc.queryForList("select id from messages where workspace_id = 'ops-retention-twice'"
                    + " and status in ('SENT', 'FAILED', 'REJECTED', 'CANCELLED') and next_attempt_at is null"
                    + " for update", UUID.class);
            locked.countDown();
            try {
                release.await(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        }));
        batch.start();
        try {
            assertThat(locked.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            String id = submit("ops-retention-twice", message("a@retention.test", "claimed@example.test",
                    "claimed while retention holds its rows"));
            awaitStatus(id, "SENT");
        } finally {
            release.countDown();
            batch.join(30_000);
        }
    }

    @Test
    void theTimerRouteIsThere() {
        assertThat(camel.getRoute("retention-run")).isNotNull();
        assertThat(read(get("admin-key", "/api/v1/retention?workspace=bad%01name").body()).toString())
                .contains("workspace");
    }

    private HttpResponse<String> run(String apiKey, String workspace) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/retention/run?workspace="
                        + workspace)).header("Authorization", "Bearer " + apiKey)
                .POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> workspaceEntry(Map<String, Object> report, String workspace) {
        return ((List<Map<String, Object>>) report.get("workspaces")).stream()
                .filter(entry -> workspace.equals(entry.get("workspace"))).findFirst().orElseThrow();
    }

    /** A message finished (or last changed) at {@code at}, with one delivered event; due: a next attempt is set. */
    private UUID message(String workspace, String status, Instant at, boolean due) {
        UUID id = UUID.randomUUID();
        Timestamp time = Timestamp.from(at);
        jdbc.update("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                                      status, attempts, next_attempt_at, queued_at, updated_at)
                values (?, ?, 'transactional', 'a@retention.test', '["b@retention.test"]', 'r', ?, ?, ?, 1, ?, ?, ?)""",
                id, workspace, MIME, MIME.length, status,
                due ? Timestamp.from(Instant.now().plus(Duration.ofDays(1000))) : null, time, time);
        event(id, workspace, "DELIVERED", at);
        return id;
    }

    private long event(UUID message, String workspace, String state, Instant at) {
        jdbc.update("insert into events (message_id, workspace_id, type, created_at, delivery_state) values (?, ?, 'send', ?, ?)",
                message, workspace, Timestamp.from(at), state);
        return jdbc.queryForObject("select max(id) from events where message_id = ?", Long.class, message);
    }

    private long deliveryAttempt(UUID message, String workspace, Instant at) {
        jdbc.update("insert into delivery_attempts (message_id, workspace_id, attempt, outcome, started_at)"
                + " values (?, ?, 1, 'TRANSIENT', ?)", message, workspace, Timestamp.from(at));
        return jdbc.queryForObject("select max(id) from delivery_attempts where message_id = ?", Long.class, message);
    }

    private long webhookAttempt(String workspace, Instant at) {
        String url = "http://127.0.0.1/" + UUID.randomUUID();
        jdbc.update("insert into webhook_attempts (workspace_id, url, events, latency_ms, outcome, attempted_at)"
                + " values (?, ?, 1, 5, 'RETRY', ?)", workspace, url, Timestamp.from(at));
        return jdbc.queryForObject("select id from webhook_attempts where url = ?", Long.class, url);
    }

    private long audit(String workspace, Instant at) {
        String target = "retention-" + UUID.randomUUID();
        jdbc.update("insert into audit_log (at, actor, action, workspace_id, target) values (?, 'admin', 'test.old', ?, ?)",
                Timestamp.from(at), workspace, target);
        return jdbc.queryForObject("select id from audit_log where target = ?", Long.class, target);
    }

    private byte[] rawMime(UUID id) {
        return jdbc.queryForObject("select raw_mime from messages where id = ?", byte[].class, id);
    }

    private boolean exists(UUID id) {
        return jdbc.queryForObject("select count(*) from messages where id = ?", Long.class, id) == 1;
    }

    private long eventCount(UUID id) {
        return jdbc.queryForObject("select count(*) from events where message_id = ?", Long.class, id);
    }

    private String deliveryState(long event) {
        return jdbc.queryForObject("select delivery_state from events where id = ?", String.class, event);
    }

    private List<Long> ids(String table, long... ids) {
        return jdbc.queryForList("select id from " + table + " where id in (?, ?) order by id", Long.class,
                ids[0], ids[1]);
    }
}
