package com.mailrelay.queuectl;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GET /api/v1/queue/summary: the queue by workspace × email type, with today's outcomes and the
 * pauses; a workspace key sees its own workspace only.
 */
class QueueSummaryTest extends RelayTestSupport {

    private static final String WORKSPACE = "w-queue";

    @AfterEach
    void noPauseLeft() {
        jdbc.update("delete from queue_pauses where workspace_id = ?", WORKSPACE);
    }

    @Test
    void countsEachWorkspaceAndTypeWithTodaysOutcomesAndItsPauses() {
        String sent = submit(WORKSPACE, Map.of("from", "ops@w-queue.example", "to", List.of("summary-sent@example.org"),
                "subject", "summary sent", "text", "x", "type", "transactional"));
        awaitStatus(sent, "SENT");
        HttpResponse<String> paused = postJson(key(WORKSPACE), "/api/v1/queue/pause",
                Map.of("email_type", "marketing", "reason", "summary test"));
        assertThat(paused.statusCode()).as(paused.body()).isEqualTo(200);
        String held = submit(WORKSPACE, Map.of("from", "ops@w-queue.example", "to", List.of("summary-held@example.org"),
                "subject", "summary held", "text", "x", "type", "marketing"));

        Map<String, Object> summary = read(get(key(WORKSPACE), "/api/v1/queue/summary").body());
        assertThat(summary).containsKeys("as_of", "today");
        List<Map<String, Object>> workspaces = list(summary.get("workspaces"));
        assertThat(workspaces).extracting(w -> w.get("workspace")).containsExactly(WORKSPACE);
        Map<String, Object> mine = workspaces.get(0);
        assertThat(mine).containsEntry("enabled", true);
        Map<String, Map<String, Object>> types = byType(mine);
        assertThat(types).containsOnlyKeys("transactional", "marketing", "system", "notification");
        assertThat(types.get("marketing")).containsEntry("paused", true).containsKeys("queued", "due", "sending",
                "deferred", "sent_today", "failed_today", "oldest_due_at");
        assertThat(number(types.get("marketing"), "held")).isGreaterThanOrEqualTo(1);
        assertThat(number(types.get("marketing"), "queued")).isGreaterThanOrEqualTo(1);
        assertThat(number(types.get("marketing"), "due")).isZero();
        assertThat(types.get("transactional")).containsEntry("paused", false);
        assertThat(number(types.get("transactional"), "sent_today")).isGreaterThanOrEqualTo(1);
        assertThat(list(mine.get("pauses"))).singleElement().satisfies(p -> assertThat(p)
                .containsEntry("workspace", WORKSPACE).containsEntry("email_type", "marketing")
                .containsEntry("reason", "summary test"));

        // the admin key sees every configured workspace, or the one it names
        List<Map<String, Object>> all = list(read(get("admin-key", "/api/v1/queue/summary").body()).get("workspaces"));
        assertThat(all).extracting(w -> w.get("workspace")).contains(WORKSPACE, "w-messages", "acme");
        List<Map<String, Object>> one = list(read(get("admin-key", "/api/v1/queue/summary?workspace=" + WORKSPACE)
                .body()).get("workspaces"));
        assertThat(one).extracting(w -> w.get("workspace")).containsExactly(WORKSPACE);
        // a workspace key naming another: 403
        assertThat(get(key(WORKSPACE), "/api/v1/queue/summary?workspace=w-messages").statusCode()).isEqualTo(403);
        assertThat(get("not-a-key", "/api/v1/queue/summary").statusCode()).isEqualTo(401);

        HttpResponse<String> resumed = postJson(key(WORKSPACE), "/api/v1/queue/resume", Map.of("email_type", "marketing"));
        assertThat(resumed.statusCode()).as(resumed.body()).isEqualTo(200);
        awaitStatus(held, "SENT");
        Map<String, Map<String, Object>> after = byType(list(read(get(key(WORKSPACE), "/api/v1/queue/summary").body())
                .get("workspaces")).get(0));
        assertThat(after.get("marketing")).containsEntry("paused", false);
        assertThat(number(after.get("marketing"), "held")).isZero();
        assertThat(number(after.get("marketing"), "sent_today")).isGreaterThanOrEqualTo(1);
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }

    private static Map<String, Map<String, Object>> byType(Map<String, Object> workspace) {
        Map<String, Map<String, Object>> types = new java.util.LinkedHashMap<>();
        list(workspace.get("types")).forEach(t -> types.put((String) t.get("email_type"), t));
        return types;
    }

    private static long number(Map<String, Object> row, String name) {
        return ((Number) row.get(name)).longValue();
    }

    private HttpResponse<String> postJson(String apiKey, String path, Map<String, Object> body) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(write(body))).build());
    }
}
