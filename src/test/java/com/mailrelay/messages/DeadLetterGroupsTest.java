package com.mailrelay.messages;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console's views of the dead letters: grouped by reason and provider with the total a filter
 * names ({@code GET /api/v1/dead-letters/groups}), filtered by type, and a selection (ids) replayed
 * or discarded — exactly the rows it names that are dead letters the key may act on.
 */
class DeadLetterGroupsTest extends RelayTestSupport {

    private static final String WS = DeadLettersTest.WS;
    private static final String ADMIN = DeadLettersTest.ADMIN;

    @Test
    void groupsCountTheDeadLettersOfEachReasonAndProvider() {
        Instant failed = Instant.now().minus(4, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        String marker = UUID.randomUUID().toString();
        String unknown = "550 5.1.1 mailbox unknown " + marker;
        String timeout = "retries exhausted " + marker;
        List<StoredRows.Row> rows = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            rows.add(StoredRows.row(WS, "g" + i + "@customer.test", failed.plusSeconds(i))
                    .failed("groups-a", unknown, failed.plusSeconds(10 + i)));
        }
        rows.add(StoredRows.row(WS, "g3@customer.test", failed.plusSeconds(3)).failed("groups-b", unknown,
                failed.plusSeconds(20)));
        rows.add(StoredRows.row(WS, "g4@customer.test", failed.plusSeconds(4)).failed("groups-a", timeout,
                failed.plusSeconds(30)).with("marketing", "[\"g4@customer.test\"]", null, null));
        StoredRows.insert(jdbc, rows);

        Map<String, Object> all = groups(key(WS), "reason=" + marker);
        // Largest first, then by reason and provider.
        assertThat(all).containsEntry("total", 5).containsEntry("more", false);
        assertThat(MessagesApiTest.list(all.get("groups"))).containsExactly(
                Map.of("reason", unknown, "provider", "groups-a", "count", 3,
                        "first_failed_at", failed.plusSeconds(10).toString(),
                        "last_failed_at", failed.plusSeconds(12).toString()),
                Map.of("reason", unknown, "provider", "groups-b", "count", 1,
                        "first_failed_at", failed.plusSeconds(20).toString(),
                        "last_failed_at", failed.plusSeconds(20).toString()),
                Map.of("reason", timeout, "provider", "groups-a", "count", 1,
                        "first_failed_at", failed.plusSeconds(30).toString(),
                        "last_failed_at", failed.plusSeconds(30).toString()));

        // At most limit groups; the total is still what the filter names.
        Map<String, Object> first = groups(ADMIN, "limit=1&workspace=" + WS + "&reason=" + marker);
        assertThat(first).containsEntry("total", 5).containsEntry("more", true);
        assertThat(MessagesApiTest.list(first.get("groups"))).hasSize(1);
        // The list's filters: provider, type, time.
        assertThat(groups(key(WS), "reason=" + marker + "&provider=groups-b")).containsEntry("total", 1);
        assertThat(groups(key(WS), "reason=" + marker + "&type=MARKETING")).containsEntry("total", 1);
        assertThat(groups(key(WS), "reason=" + marker + "&since=" + failed.plusSeconds(20))).containsEntry("total", 2);
        HttpResponse<String> typed = get(key(WS), "/api/v1/dead-letters?type=marketing&reason=" + marker);
        assertThat(MessagesApiTest.list(read(typed.body()).get("dead_letters"))).extracting(d -> d.get("id"))
                .containsExactly(rows.get(4).id().toString());
        // A workspace sees its own only.
        assertThat(groups(key("ops-messages"), "reason=" + marker)).containsEntry("total", 0);
        assertThat(get(key("ops-messages"), "/api/v1/dead-letters/groups?workspace=" + WS).statusCode())
                .isEqualTo(403);
        assertThat(get(key(WS), "/api/v1/dead-letters/groups?type=letters").body()).contains("\"field\":\"type\"");
    }

    @Test
    void aSelectionChangesExactlyTheDeadLettersItNames() {
        Instant failed = Instant.now().minus(5, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        String marker = UUID.randomUUID().toString();
        List<StoredRows.Row> rows = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            rows.add(StoredRows.row(WS, "sel" + i + "-" + marker + "@customer.test", failed.plusSeconds(i))
                    .failed("selection", "refused " + marker, failed.plusSeconds(i)));
        }
        StoredRows.Row sent = StoredRows.row(WS, "sel-sent-" + marker + "@customer.test", failed);
        rows.add(sent);
        StoredRows.insert(jdbc, rows);

        // Discard two of them and the SENT one: the two dead letters change, nothing else.
        String ids = "[\"" + rows.get(0).id() + "\", \"" + rows.get(1).id() + "\", \"" + sent.id() + "\"]";
        HttpResponse<String> discarded = postTo(key(WS), "/api/v1/dead-letters/discard",
                "{\"ids\": " + ids + ", \"discard_reason\": \"selected in the console\"}");
        assertThat(discarded.statusCode()).as(discarded.body()).isEqualTo(200);
        assertThat(read(discarded.body())).containsEntry("action", "discard").containsEntry("count", 2)
                .containsEntry("more", false);
        assertThat(jdbc.queryForList("select id from messages where discarded_at is not null and recipients like ?",
                UUID.class, "%" + marker + "%")).containsExactlyInAnyOrder(rows.get(0).id(), rows.get(1).id());
        assertThat(status(sent.id().toString())).isEqualTo("SENT");

        // Another workspace's key names them: nothing changes.
        String other = "{\"ids\": [\"" + rows.get(2).id() + "\"]}";
        HttpResponse<String> foreign = postTo(key("ops-messages"), "/api/v1/dead-letters/replay", other);
        assertThat(read(foreign.body())).containsEntry("count", 0);
        assertThat(status(rows.get(2).id().toString())).isEqualTo("FAILED");

        // The admin key replays one by its id, filtered further by provider: it is queued again.
        HttpResponse<String> replayed = postTo(ADMIN, "/api/v1/dead-letters/replay",
                "{\"ids\": [\"" + rows.get(3).id() + "\"], \"provider\": \"selection\"}");
        assertThat(read(replayed.body())).containsEntry("action", "replay").containsEntry("count", 1);
        assertThat(jdbc.queryForList("select type from events where message_id = ?", String.class, rows.get(3).id()))
                .contains("operator.replay");
        assertThat(status(rows.get(2).id().toString())).isEqualTo("FAILED");
        // Whatever happens to the replayed one next (the stub takes it), it left the dead letters.
        assertThat(groups(key(WS), "reason=" + marker)).containsEntry("total", 1);
        assertThat(jdbc.queryForObject("select count(*) from audit_log where action = 'dead-letter.discard'"
                + " and change_json like ?", Integer.class, "%" + rows.get(0).id() + "%")).isEqualTo(1);

        // Selections are checked.
        assertThat(postTo(key(WS), "/api/v1/dead-letters/replay", "{\"ids\": \"" + rows.get(2).id() + "\"}").body())
                .contains("\"field\":\"ids\"");
        assertThat(postTo(key(WS), "/api/v1/dead-letters/replay", "{\"ids\": []}").body())
                .contains("\"field\":\"ids\"");
        assertThat(postTo(key(WS), "/api/v1/dead-letters/replay", "{\"ids\": [\"not-an-id\"]}").body())
                .contains("\"field\":\"ids[0]\"");
        assertThat(status(rows.get(2).id().toString())).isEqualTo("FAILED");
    }

    private Map<String, Object> groups(String apiKey, String query) {
        HttpResponse<String> response = get(apiKey, "/api/v1/dead-letters/groups?" + query);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return read(response.body());
    }

    private HttpResponse<String> postTo(String apiKey, String path, String json) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }
}
