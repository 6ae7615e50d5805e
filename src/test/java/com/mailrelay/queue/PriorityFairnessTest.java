package com.mailrelay.queue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Claims by priority and fairly across workspaces (store/ClaimRanks): a marketing backlog of
 * 20,000 messages of q-prio-a (slowed by 100 ms a message in test-routes/q-prio.camel.yaml) does
 * not hold back q-prio-b's transactional mail, and goes on being delivered while that keeps
 * arriving. Each level comes from the workspace's map of email types, or from the message within
 * the workspace's bound.
 */
class PriorityFairnessTest extends RelayTestSupport {

    private static final String A = "q-prio-a";
    private static final String B = "q-prio-b";
    private static final String C = "q-prio-c";
    private static final int REQUESTS = 200;
    private static final int RECIPIENTS = 100;

    @Test
    void transactionalMailOvertakesAMarketingBacklogWhichStillProgresses() throws Exception {
        String campaign = "backlog-" + UUID.randomUUID();
        // Held while it is queued, so that all of it is due at once when B's mail comes (and the
        // workers do not compete with the accepts).
        HttpResponse<String> held = call("POST", "/api/v1/queue/pause", key(A),
                Map.of("email_type", "marketing", "reason", "queueing the backlog"));
        assertThat(held.statusCode()).as(held.body()).isEqualTo(200);
        // 20,000 rows: each request's 100 recipients get a copy each (marketing has List-Unsubscribe
        // links of its own), four clients at once.
        ExecutorService clients = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> posts = new ArrayList<>();
            for (int r = 0; r < REQUESTS; r++) {
                int request = r;
                posts.add(clients.submit(() -> {
                    List<String> to = new ArrayList<>(RECIPIENTS);
                    for (int i = 0; i < RECIPIENTS; i++) {
                        to.add("fan-" + request + "-" + i + "@customer.test");
                    }
                    HttpResponse<String> answer = post(key(A), Map.of("from", "news@prio-a.test", "to", to,
                            "subject", "Weekly news", "text", "News of the week", "type", "marketing",
                            "campaign_id", campaign), Map.of());
                    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(202);
                    return ((List<?>) read(answer.body()).get("messages")).size();
                }));
            }
            int accepted = 0;
            for (Future<Integer> post : posts) {
                accepted += post.get();
            }
            assertThat(accepted).isEqualTo(REQUESTS * RECIPIENTS);
        } finally {
            clients.shutdown();
        }
        assertThat(count(A, campaign, null)).isEqualTo(REQUESTS * RECIPIENTS);
        assertThat(jdbc.queryForObject("select max(priority) from messages where campaign_id = ?", Integer.class,
                campaign)).as("marketing is low").isZero();
        HttpResponse<String> resumed = call("POST", "/api/v1/queue/resume", key(A), Map.of("email_type", "marketing"));
        assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(30)).until(() -> count(A, campaign, "SENT") > 0);

        // 20 transactional messages of another workspace: all delivered while A's backlog is still large,
        // with few of A's delivered meanwhile (in FIFO order all 20,000 would be first).
        long aSentBefore = count(A, campaign, "SENT");
        Instant start = Instant.now();
        List<String> urgent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            urgent.add(submit(B, Map.of("from", "app@prio-b.test", "to", List.of("reset-" + i + "@customer.test"),
                    "subject", "Password reset " + i, "text", "Your code", "type", "transactional")));
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() ->
                urgent.stream().allMatch(id -> "SENT".equals(status(id))));
        Duration took = Duration.between(start, Instant.now());
        long aSentMeanwhile = count(A, campaign, "SENT") - aSentBefore;
        long aWaiting = count(A, campaign, "QUEUED");
        assertThat(aWaiting).as("A's backlog while B's were delivered (in %s)", took)
                .isGreaterThan(REQUESTS * RECIPIENTS / 2);
        assertThat(aSentMeanwhile).as("A's delivered while B's waited").isLessThan(1_000);
        assertThat(level(urgent.get(0))).isEqualTo(2);

        // A steady trickle of transactional mail: each delivered, and A's marketing still delivered meanwhile.
        long aSentAtTrickle = count(A, campaign, "SENT");
        List<String> trickle = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String id = submit(B, Map.of("from", "app@prio-b.test", "to", List.of("receipt-" + i + "@customer.test"),
                    "subject", "Receipt " + i, "text", "Thanks", "type", "transactional"));
            trickle.add(id);
            // The next one arrives once this one is delivered: transactional mail keeps coming all along.
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20))
                    .until(() -> "SENT".equals(status(id)));
        }
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() ->
                trickle.stream().allMatch(id -> "SENT".equals(status(id))));
        assertThat(count(A, campaign, "SENT")).as("marketing progresses beside the trickle")
                .isGreaterThan(aSentAtTrickle);

        // The rest of A is cancelled through the API (paused first, so that none is claimed meanwhile);
        // every accepted message is then delivered or cancelled.
        HttpResponse<String> paused = call("POST", "/api/v1/queue/pause", key(A),
                Map.of("email_type", "marketing", "reason", "end of the backlog test"));
        assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
        try {
            await().atMost(Duration.ofSeconds(30)).until(() -> count(A, campaign, "SENDING") == 0);
            List<UUID> queued = jdbc.queryForList("select id from messages where campaign_id = ? and status = 'QUEUED'",
                    UUID.class, campaign);
            AtomicInteger cancelled = new AtomicInteger();
            ExecutorService cancels = Executors.newFixedThreadPool(8);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int part = 0; part < 8; part++) {
                    int first = part;
                    done.add(cancels.submit(() -> {
                        for (int i = first; i < queued.size(); i += 8) {
                            HttpResponse<String> answer = call("DELETE", "/api/v1/messages/" + queued.get(i), key(A),
                                    null);
                            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
                            cancelled.incrementAndGet();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                cancels.shutdown();
            }
            long sent = count(A, campaign, "SENT");
            assertThat(count(A, campaign, "CANCELLED")).isEqualTo(cancelled.get());
            assertThat(sent + cancelled.get()).as("every accepted message delivered or cancelled")
                    .isEqualTo(REQUESTS * RECIPIENTS);
            assertThat(sent).isGreaterThan(aSentBefore);
        } finally {
            call("POST", "/api/v1/queue/resume", key(A), Map.of("email_type", "marketing"));
        }
    }

    @Test
    void eachEmailTypeHasItsLevelAndAMessageMayAskForOneWithinItsWorkspacesBound() {
        // The defaults: transactional and system high, notification normal, marketing low.
        assertThat(level(submit(B, typed("transactional", null)))).isEqualTo(2);
        assertThat(level(submit(B, typed("system", null)))).isEqualTo(2);
        assertThat(level(submit(B, typed("notification", null)))).isEqualTo(1);
        assertThat(level(submit(B, typed("marketing", null)))).isEqualTo(0);
        // Asked for, up to the bound (high by default).
        String low = submit(B, typed("transactional", "low"));
        assertThat(level(low)).isZero();
        assertThat(level(submit(B, typed("marketing", "high")))).isEqualTo(2);
        HttpResponse<String> critical = post(key(B), typed("transactional", "critical"), Map.of());
        assertThat(critical.statusCode()).isEqualTo(400);
        assertThat(critical.body()).contains("\"field\":\"priority\"", "highest priority high");
        HttpResponse<String> unknown = post(key(B), typed("transactional", "urgent"), Map.of());
        assertThat(unknown.statusCode()).isEqualTo(400);
        assertThat(unknown.body()).contains("\"field\":\"priority\"", "critical, high, normal, low");
        // Shown on the message.
        awaitStatus(low, "SENT");
        assertThat(read(get(key(B), "/api/v1/messages/" + low).body())).containsEntry("priority", "low");
        assertThat(get(key(B), "/api/v1/messages?limit=5").body()).contains("\"priority\":\"");

        // A workspace's own map and bound (application-test.yml): marketing high, transactional critical,
        // critical allowed.
        assertThat(level(submit(C, typedFrom("prio-c.test", "marketing", null)))).isEqualTo(2);
        assertThat(level(submit(C, typedFrom("prio-c.test", "transactional", null)))).isEqualTo(3);
        assertThat(level(submit(C, typedFrom("prio-c.test", "notification", "critical")))).isEqualTo(3);
        assertThat(level(submit(C, typedFrom("prio-c.test", "notification", null)))).isEqualTo(1);
    }

    @Test
    void smtpTakesXRelayPriorityWithinTheBoundAndRemovesIt() {
        try (SmtpConversation smtp = SmtpConversation.open(this.smtp.port(), "127.0.0.2")) {
            smtp.greeting();
            assertThat(smtp.send("EHLO prio.test")).startsWith("250");
            String refused = smtp.submit("app@prio-b.test", "olga@customer.test", mail("critical"));
            assertThat(refused).startsWith("550 5.7.1").contains("X-Relay-Priority", "highest priority high");
            smtp.send("RSET");
            String bad = smtp.submit("app@prio-b.test", "olga@customer.test", mail("soon"));
            assertThat(bad).startsWith("550 5.6.0").contains("X-Relay-Priority must be one of");
            smtp.send("RSET");
            String queued = smtp.submit("app@prio-b.test", "olga@customer.test", mail("Low"));
            assertThat(queued).startsWith("250").contains("queued as");
            String id = queued.substring(queued.indexOf("queued as ") + "queued as ".length()).trim();
            assertThat(level(id)).isZero();
            String stored = new String((byte[]) row(id).get("raw_mime"), java.nio.charset.StandardCharsets.US_ASCII);
            assertThat(stored).doesNotContainIgnoringCase("X-Relay-Priority").contains("Subject: prio");
            // Critical where the workspace allows it.
            smtp.send("RSET");
            String allowed = smtp.submit("app@prio-c.test", "olga@customer.test", mail("critical")
                    .replace("prio-b.test", "prio-c.test"));
            assertThat(allowed).startsWith("250");
            String critical = allowed.substring(allowed.indexOf("queued as ") + "queued as ".length()).trim();
            assertThat(level(critical)).isEqualTo(3);
        }
    }

    @Test
    void theLevelsAreWorkspaceSettingsOfTheAdminApi() {
        String id = "q-prio-api-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> created = call("POST", "/api/v1/workspaces", "admin-key", Map.of("id", id,
                "settings", Map.of("priorities", Map.of("types", Map.of("notification", "high"), "max", "critical"))));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.body()).contains("\"priorities\":{\"types\":{\"marketing\":\"low\",\"notification\":\"high\","
                + "\"system\":\"high\",\"transactional\":\"high\"},\"max\":\"critical\"}");
        HttpResponse<String> bad = call("PATCH", "/api/v1/workspaces/" + id, "admin-key",
                Map.of("priorities", Map.of("types", Map.of("newsletter", "low", "marketing", "lowest"), "max", "top")));
        assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
        assertThat(bad.body()).contains("priorities.types.newsletter", "priorities.types.marketing", "priorities.max");
        HttpResponse<String> changed = call("PATCH", "/api/v1/workspaces/" + id, "admin-key",
                Map.of("priorities", Map.of("types", Map.of("marketing", "normal"))));
        assertThat(changed.statusCode()).as(changed.body()).isEqualTo(200);
        assertThat(call("GET", "/api/v1/workspaces/" + id, "admin-key", null).body())
                .contains("\"marketing\":\"normal\",\"notification\":\"high\"", "\"max\":\"critical\"");
    }

    private static String mail(String priority) {
        return "From: app@prio-b.test\r\nTo: olga@customer.test\r\nSubject: prio\r\nX-Relay-Priority: " + priority
                + "\r\n\r\nBody\r\n";
    }

    private int level(String id) {
        return ((Number) row(id).get("priority")).intValue();
    }

    private static Map<String, Object> typed(String type, String priority) {
        return typedFrom("prio-b.test", type, priority);
    }

    private static Map<String, Object> typedFrom(String domain, String type, String priority) {
        Map<String, Object> message = new java.util.HashMap<>(Map.of("from", "app@" + domain, "to",
                List.of("someone@customer.test"), "subject", type + " " + priority, "text", "Body", "type", type));
        if (priority != null) {
            message.put("priority", priority);
        }
        return message;
    }

    private long count(String workspace, String campaign, String status) {
        return status == null
                ? jdbc.queryForObject("select count(*) from messages where workspace_id = ? and campaign_id = ?",
                        Long.class, workspace, campaign)
                : jdbc.queryForObject("select count(*) from messages where workspace_id = ? and campaign_id = ?"
                        + " and status = ?", Long.class, workspace, campaign, status);
    }

    private HttpResponse<String> call(String method, String path, String apiKey, Object body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + apiKey);
        if (body == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString(write(body)));
        }
        return send(request.build());
    }
}
