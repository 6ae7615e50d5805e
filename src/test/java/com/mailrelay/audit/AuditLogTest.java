package com.mailrelay.audit;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.api.Caller;
import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The audit log: an admin action over the API is recorded with who, what and from where; a change
 * is stored without its secrets; GET /api/v1/audit filters, pages by cursor, and shows a workspace
 * key only its own workspace's entries.
 */
class AuditLogTest extends RelayTestSupport {

    @Autowired
    AuditLog audit;

    @Test
    void aRouteReloadIsRecordedWithItsCallerAndAddress() {
        long before = jdbc.queryForObject("select count(*) from audit_log where action = 'routes.reload'", Long.class);
        HttpResponse<String> reload = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/v1/routes/reload")).header("Authorization", "Bearer admin-key")
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(reload.statusCode()).as(reload.body()).isEqualTo(200);

        Map<String, Object> entry = jdbc.queryForMap("select * from audit_log where action = 'routes.reload'"
                + " order by id desc limit 1");
        assertThat(jdbc.queryForObject("select count(*) from audit_log where action = 'routes.reload'", Long.class))
                .isEqualTo(before + 1);
        assertThat(entry.get("actor")).isEqualTo("admin");
        assertThat(entry.get("remote_address")).isEqualTo("127.0.0.1");
        assertThat(entry.get("at")).isNotNull();
    }

    @Test
    void aWorkspaceKeyMayNotReloadRoutesAndNothingIsRecorded() {
        long before = jdbc.queryForObject("select count(*) from audit_log", Long.class);
        HttpResponse<String> reload = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/v1/routes/reload")).header("Authorization", "Bearer " + key("acme"))
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(reload.statusCode()).isIn(401, 403);
        assertThat(jdbc.queryForObject("select count(*) from audit_log", Long.class)).isEqualTo(before);
    }

    @Test
    void secretsInAChangeAreNeverStored() {
        String target = "key-" + UUID.randomUUID();
        audit.record(new Caller(null, null, "192.0.2.7"), "api-key.create", "acme", target,
                Map.of("name", "ci", "secret", "s3cr3t-value", "nested", Map.of("smtp_password", "pw-value",
                        "apiKeySha256", List.of("abc123")), "webhook", Map.of("url", "https://example.test/h",
                        "key", "whkey-value")));
        String change = jdbc.queryForObject("select change_json from audit_log where target = ?", String.class, target);
        assertThat(change).contains("\"name\":\"ci\"", "https://example.test/h", AuditLog.REDACTED)
                .doesNotContain("s3cr3t-value", "pw-value", "abc123", "whkey-value");
    }

    @Test
    void theListFiltersPagesAndKeepsAWorkspaceToItsOwn() {
        String action = "test.page-" + UUID.randomUUID().toString().substring(0, 8);
        for (int i = 0; i < 5; i++) {
            audit.record(new Caller(null, null, "192.0.2.1"), action, i % 2 == 0 ? "acme" : "globex", "t" + i, null);
        }
        // Newest first, two at a time, each entry once.
        List<String> seen = new java.util.ArrayList<>();
        String cursor = null;
        for (int page = 0; page < 5; page++) {
            String path = "/api/v1/audit?action=" + action + "&limit=2" + (cursor == null ? "" : "&cursor=" + cursor);
            HttpResponse<String> answer = get("admin-key", path);
            assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
            Map<String, Object> body = read(answer.body());
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> entries = (List<Map<String, Object>>) body.get("entries");
            entries.forEach(e -> seen.add((String) e.get("target")));
            cursor = (String) body.get("next_cursor");
            if (cursor == null) {
                break;
            }
        }
        assertThat(seen).containsExactly("t4", "t3", "t2", "t1", "t0");

        // A workspace key sees its own workspace's entries, and may not ask for another's.
        Map<String, Object> own = read(get(key("acme"), "/api/v1/audit?action=" + action).body());
        assertThat(own.get("entries").toString()).contains("t0", "t2", "t4").doesNotContain("t1", "t3");
        assertThat(get(key("acme"), "/api/v1/audit?workspace=globex").statusCode()).isEqualTo(403);

        // Filters combine; a bad one is named.
        Map<String, Object> globex = read(get("admin-key", "/api/v1/audit?action=" + action + "&workspace=globex").body());
        assertThat(globex.get("entries").toString()).contains("t1", "t3").doesNotContain("t0");
        HttpResponse<String> bad = get("admin-key", "/api/v1/audit?since=yesterday&limit=0");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("since", "limit");
    }
}
