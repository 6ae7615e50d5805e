package com.mailrelay.messages;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Dead letters: listed with their reason, provider and last reply; replayed (one, or by filter)
 * back to the queue and delivered once; discarded with a reason. Each action changes exactly the
 * rows it names, writes their events and is audited. ops-dead sends through a Postmark instance on
 * the shared provider stub under /ops-dead (test-routes/ops-messages.camel.yaml).
 */
class DeadLettersTest extends RelayTestSupport {

    static final String WS = "ops-dead";
    static final String ADMIN = "admin-key";
    private static final String SEND = "/ops-dead/email";

    private final WireMockServer postmark = Upstreams.providerApis();

    @BeforeEach
    void takeWhatIsNotScripted() {
        // Rows a test replays are delivered: whatever a test does not script is taken.
        postmark.stubFor(WireMock.post(SEND).atPriority(10).willReturn(ok("anyone@customer.test")));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder ok(String to) {
        return aResponse().withStatus(200).withHeader("Content-Type", "application/json").withBody("{\"To\": \"" + to
                + "\", \"SubmittedAt\": \"2026-12-01T15:00:00.0000000-05:00\", \"MessageID\": \"" + UUID.randomUUID()
                + "\", \"ErrorCode\": 0, \"Message\": \"OK\"}");
    }

    @Test
    void aReplayedDeadLetterIsDeliveredOnce() {
        String to = "replay-" + UUID.randomUUID() + "@customer.test";
        // The upstream refuses the message for good ...
        postmark.stubFor(WireMock.post(SEND).atPriority(1).withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(422).withHeader("Content-Type", "application/json")
                        .withBody("{\"ErrorCode\": 300, \"Message\": \"Invalid 'From' address.\"}")));
        String id = submit(WS, message("app@ops.relay.test", to, "dead then replayed"));
        awaitStatus(id, "FAILED");

        Map<String, Object> listed = deadLetter(id);
        assertThat(listed).containsEntry("provider", "ops-dead").containsEntry("workspace", WS);
        assertThat((String) listed.get("reason")).contains("ErrorCode 300");

        // ... then is fixed, and the dead letter is replayed.
        postmark.stubFor(WireMock.post(SEND).atPriority(1).withRequestBody(containing(to)).willReturn(ok(to)));
        HttpResponse<String> replayed = postTo(key(WS), "/api/v1/dead-letters/" + id + "/replay", null);
        assertThat(replayed.statusCode()).as(replayed.body()).isEqualTo(200);
        assertThat(read(replayed.body())).containsEntry("status", "QUEUED").containsEntry("previous_status", "FAILED");
        awaitStatus(id, "SENT");

        assertThat(postmark.findAll(postRequestedFor(urlEqualTo(SEND)).withRequestBody(containing(to))))
                .as("the refused try, then the one delivery").hasSize(2);
        assertThat(row(id)).containsEntry("attempts", 1);
        assertThat(eventTypes(id)).containsExactly("hard_bounce", "operator.replay", "send");
        assertThat(deadLetterIds("workspace=" + WS)).doesNotContain(id);
        assertThat(postTo(key(WS), "/api/v1/dead-letters/" + id + "/replay", null).statusCode())
                .as("a SENT message is no dead letter").isEqualTo(409);
        assertThat(jdbc.queryForObject("select count(*) from audit_log where action = 'dead-letter.replay'"
                + " and target = ?", Integer.class, id)).isEqualTo(1);
        // Nothing sends it again: it is SENT, and no claim takes a SENT row.
        assertThat(postmark.findAll(postRequestedFor(urlEqualTo(SEND)).withRequestBody(containing(to)))).hasSize(2);
    }

    @Test
    void theListShowsTheLastReplyAndFilters() {
        Instant failed = Instant.now().minus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        String marker = UUID.randomUUID().toString();
        StoredRows.Row a = StoredRows.row(WS, "la@customer.test", failed).failed("ops-dead-a",
                "550 5.1.1 mailbox unknown " + marker, failed);
        StoredRows.Row b = StoredRows.row(WS, "lb@customer.test", failed.plusSeconds(1)).failed("ops-dead-b",
                "retries exhausted " + marker, failed.plusSeconds(60));
        StoredRows.insert(jdbc, List.of(a, b));
        jdbc.update("insert into delivery_attempts (message_id, workspace_id, attempt, provider_id, outcome, code, reply,"
                + " duration_ms, started_at) values (?, ?, 3, 'ops-dead-a', 'PERMANENT', '550', '550 5.1.1 mailbox unknown',"
                + " 12, ?)", a.id(), WS, Timestamp.from(failed));

        Map<String, Object> listed = deadLetter(a.id().toString());
        assertThat(listed).containsEntry("provider", "ops-dead-a").containsEntry("attempts", 3)
                .containsEntry("last_attempt", Map.of("provider", "ops-dead-a", "code", "550",
                        "reply", "550 5.1.1 mailbox unknown", "at", failed.toString()));
        assertThat(deadLetterIds("reason=MAILBOX+UNKNOWN+" + marker)).containsExactly(a.id().toString());
        assertThat(deadLetterIds("reason=" + marker + "&provider=ops-dead-b")).containsExactly(b.id().toString());
        assertThat(deadLetterIds("reason=" + marker + "&since=" + failed.plusSeconds(30))).containsExactly(
                b.id().toString());
        assertThat(deadLetterIds("reason=" + marker + "&until=" + failed.plusSeconds(30))).containsExactly(
                a.id().toString());
        assertThat(get(key("ops-messages"), "/api/v1/dead-letters?reason=" + marker).body()).doesNotContain(marker);
        assertThat(get(key("ops-messages"), "/api/v1/dead-letters?workspace=" + WS).statusCode()).isEqualTo(403);
    }

    @Test
    void replayAndDiscardByFilterChangeExactlyTheRowsTheyName() {
        Instant failed = Instant.now().minus(2, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        String marker = UUID.randomUUID().toString();
        List<StoredRows.Row> rows = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            rows.add(StoredRows.row(WS, "bulk" + i + "-" + marker + "@customer.test", failed.plusSeconds(i))
                    .failed(i < 4 ? "ops-dead-x" : "ops-dead-y", "outage " + marker, failed.plusSeconds(i)));
        }
        StoredRows.Row sent = StoredRows.row(WS, "sent-" + marker + "@customer.test", failed);
        rows.add(sent);
        StoredRows.insert(jdbc, rows);
        List<Map<String, Object>> before = states(marker);

        // Replay provider x's, at most 3 of its 4: the oldest three, and the answer says more matched.
        HttpResponse<String> replayed = postTo(key(WS), "/api/v1/dead-letters/replay",
                write(Map.of("provider", "ops-dead-x", "reason", marker, "limit", 3)));
        assertThat(replayed.statusCode()).as(replayed.body()).isEqualTo(200);
        assertThat(read(replayed.body())).containsEntry("action", "replay").containsEntry("count", 3)
                .containsEntry("more", true);
        List<UUID> replayedIds = List.of(rows.get(0).id(), rows.get(1).id(), rows.get(2).id());
        assertThat(changedSince(before, marker)).containsExactlyInAnyOrderElementsOf(replayedIds);
        for (UUID id : replayedIds) {
            assertThat(jdbc.queryForList("select type from events where message_id = ?", String.class, id))
                    .contains("operator.replay");
            Map<String, Object> row = jdbc.queryForMap("select status, requeued_at from messages where id = ?", id);
            assertThat(row.get("status")).isNotEqualTo("FAILED");
            assertThat(row.get("requeued_at")).isNotNull();
        }
        Map<String, Object> audit = jdbc.queryForMap("select workspace_id, change_json from audit_log"
                + " where action = 'dead-letter.replay' order by id desc limit 1");
        assertThat(audit.get("workspace_id")).isEqualTo(WS);
        assertThat(read((String) audit.get("change_json"))).containsEntry("count", 3).containsEntry("more", true)
                .containsEntry("filter", Map.of("provider", "ops-dead-x", "reason", marker, "limit", 3));

        // Discard y's: they stay FAILED, leave the list, and can no longer be replayed.
        List<Map<String, Object>> beforeDiscard = states(marker);
        HttpResponse<String> discarded = postTo(ADMIN, "/api/v1/dead-letters/discard", write(Map.of(
                "workspace", WS, "provider", "ops-dead-y", "reason", marker, "discard_reason", "sent by hand")));
        assertThat(discarded.statusCode()).as(discarded.body()).isEqualTo(200);
        assertThat(read(discarded.body())).containsEntry("count", 2).containsEntry("more", false);
        // The replayed three are being delivered meanwhile (the workers change them): left out of the
        // comparison, and none of them was discarded.
        assertThat(changedSince(beforeDiscard, marker)).filteredOn(id -> !replayedIds.contains(id))
                .containsExactlyInAnyOrder(rows.get(4).id(), rows.get(5).id());
        assertThat(jdbc.queryForList("select count(*) from messages where id in (?, ?, ?) and discarded_at is not null",
                Long.class, replayedIds.get(0), replayedIds.get(1), replayedIds.get(2))).containsExactly(0L);
        assertThat(jdbc.queryForList("select status from messages where id in (?, ?)", String.class, rows.get(4).id(),
                rows.get(5).id())).containsOnly("FAILED");
        assertThat(jdbc.queryForObject("select detail from events where message_id = ? and type = 'operator.discard'",
                String.class, rows.get(4).id())).contains("sent by hand");
        assertThat(deadLetterIds("reason=" + marker)).containsExactly(rows.get(3).id().toString());
        HttpResponse<String> again = postTo(key(WS), "/api/v1/dead-letters/" + rows.get(4).id() + "/replay", null);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.body()).contains("discarded");

        // One by id, with its reason; the last of x's.
        HttpResponse<String> one = postTo(key(WS), "/api/v1/dead-letters/" + rows.get(3).id() + "/discard",
                write(Map.of("discard_reason", "duplicate")));
        assertThat(one.statusCode()).as(one.body()).isEqualTo(200);
        assertThat(deadLetterIds("reason=" + marker)).isEmpty();
        assertThat(status(sent.id().toString())).isEqualTo("SENT");
        assertThat(jdbc.queryForObject("select count(*) from events where message_id = ?", Integer.class, sent.id()))
                .isZero();
    }

    @Test
    void filtersAndBodiesAreChecked() {
        HttpResponse<String> typo = postTo(key(WS), "/api/v1/dead-letters/replay", "{\"workspce\": \"ops-dead\"}");
        assertThat(typo.statusCode()).isEqualTo(400);
        assertThat(typo.body()).contains("\"field\":\"workspce\"");
        HttpResponse<String> noReason = postTo(key(WS), "/api/v1/dead-letters/discard", "{\"provider\": \"x\"}");
        assertThat(noReason.statusCode()).isEqualTo(400);
        assertThat(noReason.body()).contains("\"field\":\"discard_reason\"");
        assertThat(postTo(key(WS), "/api/v1/dead-letters/replay", "{\"limit\": 10001}").body())
                .contains("\"field\":\"limit\"");
        assertThat(postTo(key(WS), "/api/v1/dead-letters/replay", "{\"workspace\": \"ops-messages\"}").statusCode())
                .isEqualTo(403);
        assertThat(postTo(key(WS), "/api/v1/dead-letters/replay", "[1]").statusCode()).isEqualTo(400);
        assertThat(postTo(key(WS), "/api/v1/dead-letters/" + UUID.randomUUID() + "/replay", null).statusCode())
                .isEqualTo(404);
    }

    private List<Map<String, Object>> states(String marker) {
        return jdbc.queryForList("select id, status, attempts, next_attempt_at, discarded_at from messages"
                + " where recipients like ?", "%" + marker + "%");
    }

    private List<UUID> changedSince(List<Map<String, Object>> before, String marker) {
        List<Map<String, Object>> after = new ArrayList<>(states(marker));
        after.removeAll(before);
        return after.stream().map(row -> (UUID) row.get("id")).toList();
    }

    private Map<String, Object> deadLetter(String id) {
        return MessagesApiTest.list(read(get(ADMIN, "/api/v1/dead-letters?limit=1000&workspace=" + WS).body())
                .get("dead_letters")).stream().filter(d -> id.equals(d.get("id"))).findFirst()
                .orElseThrow(() -> new AssertionError("not a listed dead letter: " + id));
    }

    private List<String> deadLetterIds(String query) {
        HttpResponse<String> response = get(key(WS), "/api/v1/dead-letters?limit=1000&" + query);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return MessagesApiTest.list(read(response.body()).get("dead_letters")).stream()
                .map(d -> (String) d.get("id")).toList();
    }

    private HttpResponse<String> postTo(String apiKey, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey);
        if (json == null) {
            request.POST(HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        }
        return send(request.build());
    }
}
