package com.mailrelay.recipients;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A workspace's recipient list under the admin API: searched, filtered and paged by address, read
 * and lifted by the admin key or the workspace's own key (another workspace's is 403), audited.
 */
class WorkspaceRecipientsApiTest extends RelayTestSupport {

    private static final String ADMIN = "admin-key";

    @Test
    void theAdminAndTheWorkspaceSearchPageAndLiftItsSuppressions() {
        String id = "w-tenants-" + UUID.randomUUID().toString().substring(0, 8);
        HttpResponse<String> created = call(ADMIN, "POST", "/api/v1/workspaces",
                "{\"id\": \"" + id + "\", \"key_name\": \"ci\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        @SuppressWarnings("unchecked")
        String secret = (String) ((Map<String, Object>) read(created.body()).get("api_key")).get("secret");
        for (String address : List.of("ann@list.test", "bob@list.test", "cyd@list.test", "dee@other.test")) {
            HttpResponse<String> put = call(secret, "PUT", "/api/v1/recipients/" + address,
                    "{\"status\": \"UNSUBSCRIBED\", \"reason\": \"asked\"}");
            assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
        }
        call(secret, "PUT", "/api/v1/recipients/cyd@list.test", "{\"status\": \"ACTIVE\"}");
        String base = "/api/v1/workspaces/" + id + "/recipients";

        // search and filter: list.test among the suppressed, one a page, by address
        HttpResponse<String> first = call(ADMIN, "GET", base + "?status=suppressed&q=LIST.test&limit=1", null);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        Map<String, Object> page = read(first.body());
        assertThat(emails(page)).containsExactly("ann@list.test");
        assertThat(page.get("next_cursor")).isNotNull();
        Map<String, Object> second = read(call(ADMIN, "GET",
                base + "?status=SUPPRESSED&q=list.test&limit=1&cursor=" + page.get("next_cursor"), null).body());
        assertThat(emails(second)).containsExactly("bob@list.test");
        assertThat(second.get("next_cursor")).isNull();
        assertThat(emails(read(call(secret, "GET", base, null).body())))
                .containsExactly("ann@list.test", "bob@list.test", "cyd@list.test", "dee@other.test");
        assertThat(emails(read(call(secret, "GET", base + "?q=%25", null).body()))).as("% is text, not a wildcard")
                .isEmpty();

        // lift by the admin key: ACTIVE in the database, audited with the workspace and the address
        HttpResponse<String> lifted = call(ADMIN, "PUT", base + "/bob%40list.test",
                "{\"status\": \"ACTIVE\", \"reason\": \"lifted by support\"}");
        assertThat(lifted.statusCode()).as(lifted.body()).isEqualTo(200);
        assertThat(read(lifted.body())).containsEntry("status", "ACTIVE");
        assertThat(jdbc.queryForObject("select status from recipients where workspace_id = ? and email = ?",
                String.class, id, "bob@list.test")).isEqualTo("ACTIVE");
        assertThat(jdbc.queryForList("select actor from audit_log where action = 'recipient.update'"
                + " and workspace_id = ? and target = ?", String.class, id, "bob@list.test")).containsExactly("admin");

        // errors: bad filters named, another workspace's key 403, an unknown workspace 404
        HttpResponse<String> bad = call(ADMIN, "GET", base + "?status=gone&limit=0", null);
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("\"field\":\"status\"").contains("\"field\":\"limit\"");
        assertThat(call(ADMIN, "PUT", base + "/ann@list.test", "{\"status\": \"maybe\"}").statusCode()).isEqualTo(400);
        assertThat(call("acme-key", "GET", base, null).statusCode()).isEqualTo(403);
        assertThat(call("acme-key", "PUT", base + "/ann@list.test", "{\"status\": \"ACTIVE\"}").statusCode())
                .isEqualTo(403);
        assertThat(call(ADMIN, "GET", "/api/v1/workspaces/no-such-" + id + "/recipients", null).statusCode())
                .isEqualTo(404);
        assertThat(call(null, "GET", base, null).statusCode()).isEqualTo(401);
        assertThat(jdbc.queryForObject("select status from recipients where workspace_id = ? and email = ?",
                String.class, id, "ann@list.test")).isEqualTo("UNSUBSCRIBED");
    }

    @SuppressWarnings("unchecked")
    private static List<String> emails(Map<String, Object> page) {
        return ((List<Map<String, Object>>) page.get("recipients")).stream().map(r -> (String) r.get("email")).toList();
    }

    private HttpResponse<String> call(String apiKey, String method, String path, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        if (body != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return send(request.build());
    }
}
