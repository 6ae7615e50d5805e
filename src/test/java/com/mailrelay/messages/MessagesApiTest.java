package com.mailrelay.messages;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.store.MessageQueries;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.TestDatabaseEnvironment;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GET /api/v1/messages (cursor pages, filters, who sees what), a message's detail and raw MIME, and
 * the operator's cancel and retry-now, against the running relay and its database. Rows are written
 * straight into the messages table ({@link StoredRows}) in workspace ops-messages, in the statuses
 * and at the accept times each test needs.
 */
class MessagesApiTest extends RelayTestSupport {

    @Autowired
    MessageQueries queries;

    static final String WS = "ops-messages";
    static final String ADMIN = "admin-key";

    @Test
    void tenThousandMessagesByCursorComeOnceEachInOrderWhileMailArrives() {
        // Accepted 30 days ago, three at a time at the same instant: the id breaks the ties.
        Instant base = Instant.now().minus(30, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        List<StoredRows.Row> rows = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            rows.add(StoredRows.row(WS, "bulk-" + i + "@customer.test", base.plusMillis(i / 3)));
        }
        StoredRows.insert(jdbc, rows);
        List<UUID> expected = jdbc.queryForList("select id from messages where workspace_id = ? and queued_at >= ?"
                + " and queued_at < ? order by queued_at, id", UUID.class, WS, java.sql.Timestamp.from(base),
                java.sql.Timestamp.from(base.plusSeconds(60)));
        assertThat(expected).hasSize(10_000);

        List<UUID> seen = new ArrayList<>();
        List<UUID> arrived = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            String path = "/api/v1/messages?workspace=" + WS + "&since=" + base + "&limit=1000"
                    + (cursor == null ? "" : "&cursor=" + cursor);
            HttpResponse<String> response = get(key(WS), path);
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            Map<String, Object> page = read(response.body());
            List<Map<String, Object>> messages = list(page.get("messages"));
            assertThat(messages).hasSizeLessThanOrEqualTo(1000);
            messages.forEach(m -> {
                seen.add(UUID.fromString((String) m.get("id")));
                assertThat(m).doesNotContainKeys("raw_mime", "mime");
            });
            cursor = (String) page.get("next_cursor");
            if (pages == 3) {
                // New mail arrives while the listing is under way, and seen messages change status.
                List<StoredRows.Row> fresh = new ArrayList<>();
                for (int i = 0; i < 25; i++) {
                    fresh.add(StoredRows.row(WS, "fresh-" + i + "@customer.test", Instant.now()));
                }
                StoredRows.insert(jdbc, fresh);
                fresh.forEach(r -> arrived.add(r.id()));
                jdbc.update("update messages set status = 'FAILED' where id = ?", seen.get(5));
            }
        } while (cursor != null && ++pages < 50);

        assertThat(new HashSet<>(seen)).as("no message twice").hasSize(seen.size());
        assertThat(seen.subList(0, 10_000)).isEqualTo(expected);
        assertThat(seen).containsAll(arrived);
        assertThat(seen).hasSize(jdbc.queryForObject("select count(*) from messages where workspace_id = ?"
                + " and queued_at >= ?", Integer.class, WS, java.sql.Timestamp.from(base)));
        // Pages of 1000: 10 of the old rows, then the new ones; the SQL lists its columns, never raw_mime.
        assertThat(pages).isBetween(10, 12);
        assertThat(MessageQueries.LISTED).doesNotContain("raw_mime").doesNotContain("*");
    }

    /**
     * With the table's rows analysed, a page of each way of asking reads the index of V19 made for
     * it; on PostgreSQL, the database of many rows, as one ordered range, never a sort of the
     * matches (no Sort node in the plan). H2 picks the same indexes but, with equality on two
     * columns before queued_at, still sorts what the range gave. (A page larger than what matches
     * at all — a campaign of 100 messages asked for 1000 — is read and sorted whole on either: at
     * most one page.)
     */
    @Test
    void eachFilterReadsAPageFromItsIndexWithoutSorting() {
        boolean postgres = TestDatabaseEnvironment.postgres();
        List<StoredRows.Row> rows = new ArrayList<>();
        Instant base = Instant.now().minus(40, ChronoUnit.DAYS);
        // One in ten DEFERRED (due in a month: never claimed here), so that the DEFERRED filter's plan
        // is read over many matches, not over the few other tests left (three rows are read and
        // sorted whole, rightly). Ten campaigns of 500 for the same reason: a campaign of 100 has
        // about 20 rows behind a cursor near its end, which the planner rightly reads and sorts whole
        // for a page of 20.
        Instant later = Instant.now().plus(30, ChronoUnit.DAYS);
        for (int i = 0; i < 5_000; i++) {
            StoredRows.Row row = StoredRows.row(i % 5 == 0 ? "ops-dead" : WS, "plan-" + i + "@customer.test",
                    base.plusMillis(i)).with(i % 2 == 0 ? "marketing" : "transactional",
                    "[\"plan-" + i + "@customer.test\"]", "[\"t\"]", "plan-" + (i % 10));
            rows.add(i % 10 == 3 ? row.status("DEFERRED", later) : row);
        }
        StoredRows.insert(jdbc, rows);
        jdbc.execute(postgres ? "analyze messages" : "analyze table messages");
        MessageQueries.Cursor cursor = new MessageQueries.Cursor(base.plusMillis(100), UUID.randomUUID());
        List<MessageQueries.Filter> filters = List.of(filter(null, null, null), filter(WS, null, null),
                filter("ops-dead", null, null), filter(null, "DEFERRED", null), filter(WS, "SENT", null),
                filter(null, null, "plan-7"));
        for (MessageQueries.Filter filter : filters) {
            for (boolean newest : List.of(false, true)) {
                // Newest first pages backwards from near the end, so that as many rows lie behind it.
                MessageQueries.Cursor from = newest
                        ? new MessageQueries.Cursor(base.plusMillis(4_900), cursor.id(), true) : cursor;
                String plan = String.join("\n", queries.plan(filter, from, 20, newest))
                        .toLowerCase(java.util.Locale.ROOT);
                // Which of them the planner takes depends on how many rows match; each serves the order
                // (newest first: the same index read backwards).
                assertThat(plan).as(filter + " newest=" + newest).containsPattern("messages_[a-z_]*listing");
                if (postgres) {
                    assertThat(plan).as(filter + " newest=" + newest).contains("index scan").doesNotContain("sort");
                }
            }
        }
    }

    private static MessageQueries.Filter filter(String workspace, String status, String campaign) {
        return new MessageQueries.Filter(workspace, status, null, campaign, null, null, null, null);
    }

    @Test
    void filtersCombine() {
        Instant t = Instant.now().minus(20, ChronoUnit.DAYS).truncatedTo(ChronoUnit.SECONDS);
        String campaign = "spring-" + UUID.randomUUID();
        StoredRows.Row a = StoredRows.row(WS, "ann@customer.test", t).with("marketing", "[\"ann@customer.test\"]",
                "[\"news\",\"spring\"]", campaign);
        StoredRows.Row b = StoredRows.row(WS, "ba@customer.test", t.plusSeconds(1)).with("marketing",
                "[\"ba@customer.test\",\"ann@customer.test\"]", "[\"news\"]", campaign).status("DEFERRED",
                Instant.now().plus(1, ChronoUnit.HOURS));
        StoredRows.Row c = StoredRows.row(WS, "a@customer.test", t.plusSeconds(2)).with("transactional",
                "[\"a@customer.test\"]", "[\"newsletter\"]", campaign);
        StoredRows.Row d = StoredRows.row(WS, "Ann@Customer.test", t.plusSeconds(3)).with("marketing",
                "[\"Ann@Customer.test\"]", "[\"news\"]", null);
        StoredRows.Row other = StoredRows.row("ops-dead", "ann@customer.test", t.plusSeconds(1)).with("marketing",
                "[\"ann@customer.test\"]", "[\"news\"]", campaign);
        StoredRows.insert(jdbc, List.of(a, b, c, d, other));
        String window = "&since=" + t + "&until=" + t.plusSeconds(10);

        assertThat(ids(key(WS), "campaign=" + campaign + window)).containsExactly(a.id(), b.id(), c.id());
        assertThat(ids(key(WS), "campaign=" + campaign + "&tag=news" + window)).containsExactly(a.id(), b.id());
        assertThat(ids(key(WS), "tag=news" + window)).as("exact tags: not newsletter")
                .containsExactly(a.id(), b.id(), d.id());
        assertThat(ids(key(WS), "recipient=ann@customer.test" + window)).as("exact, any case")
                .containsExactly(a.id(), b.id(), d.id());
        assertThat(ids(key(WS), "recipient=a@customer.test" + window)).as("not ba@ nor ann@").containsExactly(c.id());
        assertThat(ids(key(WS), "recipient=ann@customer.test&status=deferred&type=marketing&campaign=" + campaign
                + window)).containsExactly(b.id());
        assertThat(ids(key(WS), "type=marketing&status=SENT&tag=news" + window)).containsExactly(a.id(), d.id());
        assertThat(ids(key(WS), "tag=news&since=" + t.plusSeconds(1) + "&until=" + t.plusSeconds(3)))
                .containsExactly(b.id());
        // Newest first, a page at a time: the same rows backwards, and a cursor keeps its order.
        assertThat(ids(key(WS), "campaign=" + campaign + window + "&order=newest"))
                .containsExactly(c.id(), b.id(), a.id());
        Map<String, Object> first = read(get(key(WS), "/api/v1/messages?campaign=" + campaign + window
                + "&order=newest&limit=2").body());
        assertThat(list(first.get("messages")).stream().map(m -> m.get("id")).toList())
                .containsExactly(c.id().toString(), b.id().toString());
        String next = (String) first.get("next_cursor");
        assertThat(ids(key(WS), "campaign=" + campaign + window + "&order=newest&limit=2&cursor=" + next))
                .containsExactly(a.id());
        HttpResponse<String> mixed = get(key(WS), "/api/v1/messages?campaign=" + campaign + window
                + "&order=oldest&cursor=" + next);
        assertThat(mixed.statusCode()).isEqualTo(400);
        assertThat(mixed.body()).contains("\"field\":\"cursor\"").contains("order=newest");
        assertThat(get(key(WS), "/api/v1/messages?order=sideways").body()).contains("\"field\":\"order\"");
        // An admin sees every workspace, or the one it names; a workspace key only its own.
        assertThat(ids(ADMIN, "campaign=" + campaign + window)).containsExactly(a.id(), b.id(), other.id(), c.id());
        assertThat(ids(ADMIN, "campaign=" + campaign + "&workspace=ops-dead" + window)).containsExactly(other.id());
        assertThat(ids(key("ops-dead"), "campaign=" + campaign + window)).containsExactly(other.id());
        assertThat(get(key(WS), "/api/v1/messages?workspace=ops-dead").statusCode()).isEqualTo(403);

        HttpResponse<String> invalid = get(key(WS), "/api/v1/messages?status=LOST&type=spam&limit=1001"
                + "&since=yesterday&cursor=nope");
        assertThat(invalid.statusCode()).isEqualTo(400);
        for (String field : List.of("status", "type", "limit", "since", "cursor")) {
            assertThat(invalid.body()).contains("\"field\":\"" + field + "\"");
        }
    }

    @Test
    void detailRawAndLinksForTheWorkspaceAndTheAdmin() {
        String id = submit(WS, message("app@ops.relay.test", "raw@customer.test", "raw bytes"));
        byte[] stored = jdbc.queryForObject("select raw_mime from messages where id = ?", byte[].class,
                UUID.fromString(id));

        HttpResponse<byte[]> raw = bytes(key(WS), "/api/v1/messages/" + id + "/raw");
        assertThat(raw.statusCode()).isEqualTo(200);
        assertThat(raw.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("message/rfc822"));
        assertThat(raw.body()).isEqualTo(stored);
        assertThat(bytes(ADMIN, "/api/v1/messages/" + id + "/raw").body()).isEqualTo(stored);
        assertThat(bytes(key("ops-dead"), "/api/v1/messages/" + id + "/raw").statusCode()).isEqualTo(404);
        assertThat(bytes(key(WS), "/api/v1/messages/" + UUID.randomUUID() + "/raw").statusCode()).isEqualTo(404);

        Map<String, Object> detail = read(get(ADMIN, "/api/v1/messages/" + id).body());
        assertThat(detail).containsEntry("workspace", WS).containsEntry("links", Map.of(
                "self", "/api/v1/messages/" + id, "raw", "/api/v1/messages/" + id + "/raw",
                "attempts", "/api/v1/messages/" + id + "/attempts"));
        assertThat(get(key("ops-dead"), "/api/v1/messages/" + id).statusCode()).isEqualTo(404);

        // Retention dropped the bytes: the message is known, its MIME is gone.
        StoredRows.Row dropped = StoredRows.row(WS, "dropped@customer.test", Instant.now()).mime(new byte[0]);
        StoredRows.insert(jdbc, List.of(dropped));
        jdbc.update("update messages set size_bytes = 500 where id = ?", dropped.id());
        HttpResponse<String> gone = get(key(WS), "/api/v1/messages/" + dropped.id() + "/raw");
        assertThat(gone.statusCode()).isEqualTo(410);
        assertThat(gone.body()).contains("retention");
    }

    @Test
    void cancelChangesExactlyTheMessageItNamesAndOnlyBeforeAWorkerTookIt() {
        Instant later = Instant.now().plus(1, ChronoUnit.HOURS);
        StoredRows.Row queued = StoredRows.row(WS, "q@customer.test", Instant.now()).status("QUEUED", later);
        StoredRows.Row deferred = StoredRows.row(WS, "d@customer.test", Instant.now()).status("DEFERRED", later);
        StoredRows.Row sending = StoredRows.row(WS, "s@customer.test", Instant.now()).status("SENDING", later);
        StoredRows.Row sent = StoredRows.row(WS, "t@customer.test", Instant.now());
        StoredRows.insert(jdbc, List.of(queued, deferred, sending, sent));
        List<Map<String, Object>> before = states();

        HttpResponse<String> cancelled = delete(key(WS), "/api/v1/messages/" + queued.id());
        assertThat(cancelled.statusCode()).as(cancelled.body()).isEqualTo(200);
        assertThat(read(cancelled.body())).containsEntry("status", "CANCELLED").containsEntry("previous_status", "QUEUED");
        assertThat(delete(ADMIN, "/api/v1/messages/" + deferred.id()).statusCode()).isEqualTo(200);
        HttpResponse<String> claimed = delete(key(WS), "/api/v1/messages/" + sending.id());
        assertThat(claimed.statusCode()).isEqualTo(409);
        assertThat(claimed.body()).contains("SENDING");
        assertThat(delete(key(WS), "/api/v1/messages/" + sent.id()).body()).contains("is SENT");
        assertThat(delete(key("ops-dead"), "/api/v1/messages/" + queued.id()).statusCode()).isEqualTo(404);
        assertThat(delete(key(WS), "/api/v1/messages/not-an-id").statusCode()).isEqualTo(404);
        HttpResponse<String> again = delete(key(WS), "/api/v1/messages/" + queued.id());
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.body()).contains("CANCELLED");

        List<Map<String, Object>> after = states();
        List<Map<String, Object>> changed = new ArrayList<>(after);
        changed.removeAll(before);
        assertThat(changed).extracting(row -> row.get("id")).containsExactlyInAnyOrder(queued.id(), deferred.id());
        assertThat(changed).allSatisfy(row -> {
            assertThat(row.get("status")).isEqualTo("CANCELLED");
            assertThat(row.get("next_attempt_at")).isNull();
        });
        assertThat(operatorEvents(queued.id())).containsExactly("operator.cancel");
        assertThat(operatorEvents(deferred.id())).containsExactly("operator.cancel");
        assertThat(operatorEvents(sending.id())).isEmpty();
        assertThat(jdbc.queryForObject("select count(*) from events where message_id in (?, ?) and"
                + " delivery_state <> 'HISTORY'", Integer.class, queued.id(), deferred.id())).isZero();
        assertThat(detailEvents(queued.id())).anySatisfy(event -> assertThat(event)
                .containsEntry("type", "operator.cancel"));
        assertThat(jdbc.queryForList("select actor from audit_log where action = 'message.cancel' and target = ?",
                String.class, queued.id().toString())).containsExactly("workspace:" + WS);
        assertThat(jdbc.queryForMap("select workspace_id, change_json from audit_log where action = 'message.cancel'"
                + " and target = ?", deferred.id().toString())).containsEntry("workspace_id", WS);
    }

    @Test
    void retryMakesADeferredMessageDueNowAndItIsDelivered() {
        Instant later = Instant.now().plus(1, ChronoUnit.HOURS);
        StoredRows.Row deferred = StoredRows.row(WS, "retry-" + UUID.randomUUID() + "@customer.test", Instant.now())
                .status("DEFERRED", later);
        StoredRows.Row untouched = StoredRows.row(WS, "wait@customer.test", Instant.now()).status("DEFERRED", later);
        StoredRows.Row queued = StoredRows.row(WS, "queued@customer.test", Instant.now()).status("QUEUED", later);
        StoredRows.insert(jdbc, List.of(deferred, untouched, queued));

        HttpResponse<String> retried = postTo(key(WS), "/api/v1/messages/" + deferred.id() + "/retry", null);
        assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
        awaitStatus(deferred.id().toString(), "SENT");
        assertThat(eventTypes(deferred.id().toString())).containsExactly("operator.retry", "send");

        assertThat(postTo(key(WS), "/api/v1/messages/" + queued.id() + "/retry", null).statusCode()).isEqualTo(409);
        assertThat(status(untouched.id().toString())).isEqualTo("DEFERRED");
        assertThat(jdbc.queryForObject("select next_attempt_at from messages where id = ?", java.sql.Timestamp.class,
                untouched.id()).toInstant()).isAfter(Instant.now().plus(50, ChronoUnit.MINUTES));
        assertThat(jdbc.queryForObject("select count(*) from audit_log where action = 'message.retry' and target = ?",
                Integer.class, deferred.id().toString())).isEqualTo(1);
    }

    private List<Map<String, Object>> states() {
        return jdbc.queryForList("select id, status, next_attempt_at, attempts from messages where workspace_id = ?"
                + " and queued_at > ?", WS, java.sql.Timestamp.from(Instant.now().minus(Duration.ofMinutes(10))));
    }

    private List<String> operatorEvents(UUID id) {
        return jdbc.queryForList("select type from events where message_id = ? and type like 'operator.%' order by id",
                String.class, id);
    }

    private List<Map<String, Object>> detailEvents(UUID id) {
        return list(read(get(key(WS), "/api/v1/messages/" + id).body()).get("events"));
    }

    private List<UUID> ids(String apiKey, String query) {
        HttpResponse<String> response = get(apiKey, "/api/v1/messages?" + query);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return list(read(response.body()).get("messages")).stream().map(m -> UUID.fromString((String) m.get("id")))
                .toList();
    }

    HttpResponse<String> delete(String apiKey, String path) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey).DELETE().build());
    }

    HttpResponse<String> postTo(String apiKey, String path, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey);
        if (json == null) {
            request.POST(HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
        }
        return send(request.build());
    }

    private HttpResponse<byte[]> bytes(String apiKey, String path) {
        try {
            return java.net.http.HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + port + path)).header("Authorization", "Bearer " + apiKey).GET().build(),
                    HttpResponse.BodyHandlers.ofByteArray());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }
}
