package com.mailrelay.http;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.store.MessageRecord;
import com.mailrelay.store.MessageRepository;
import com.mailrelay.store.MessageSummary;
import com.mailrelay.support.RelayTestSupport;
import jakarta.persistence.EntityManagerFactory;
import org.hibernate.SessionFactory;
import org.hibernate.stat.Statistics;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code GET /api/v1/messages/{id}} and idempotent retries read a message's status, never its
 * MIME; the history comes one page at a time.
 *
 * <p>How "never its MIME" is shown: Hibernate's statistics count every MessageRecord entity loaded
 * (the entity maps raw_mime eagerly, so loading one reads the whole message). The summary queries
 * select listed columns into {@link MessageSummary} (a constructor expression, no entity), so a
 * GET and an idempotent retry of a 9 MB message load no MessageRecord at all, while the summary
 * queries are seen to run; and a findById of the same row, as a control, does count one load.
 */
class MessageStatusTest extends RelayTestSupport {

    @Autowired
    EntityManagerFactory entityManagerFactory;

    @Autowired
    MessageRepository messages;

    @Test
    void statusAndRetriesOfALargeMessageLoadNoMime() {
        Statistics statistics = entityManagerFactory.unwrap(SessionFactory.class).getStatistics();
        statistics.setStatisticsEnabled(true);
        try {
            Map<String, Object> large = Map.of("from", "app@acme.test", "to", List.of("large@customer.test"),
                    "subject", "large", "text", "y".repeat(9 * 1024 * 1024));
            var first = post(key("acme"), large, Map.of("Idempotency-Key", "large-" + UUID.randomUUID()));
            assertThat(first.statusCode()).as(first.body()).isEqualTo(202);
            String id = (String) read(first.body()).get("id");
            String idempotencyKey = first.request().headers().firstValue("Idempotency-Key").orElseThrow();
            statistics.clear();
            long loadsBefore = loads(statistics);

            var view = get(key("acme"), "/api/v1/messages/" + id);
            assertThat(view.statusCode()).isEqualTo(200);
            assertThat(((Number) read(view.body()).get("size_bytes")).intValue()).isGreaterThan(9 * 1024 * 1024);
            var retry = post(key("acme"), large, Map.of("Idempotency-Key", idempotencyKey));
            assertThat(retry.statusCode()).as(retry.body()).isEqualTo(202);
            assertThat(read(retry.body())).containsEntry("id", id);

            assertThat(loads(statistics)).as("MessageRecord entities (with raw_mime) loaded").isEqualTo(loadsBefore);
            assertThat(List.of(statistics.getQueries())).anySatisfy(q -> assertThat(q).contains("MessageSummary")
                    .contains("m.id = :id"));
            assertThat(List.of(statistics.getQueries())).anySatisfy(q -> assertThat(q).contains("MessageSummary")
                    .contains("m.idempotencyKey = :idempotencyKey"));

            // The control: loading the entity is counted, so the zero above means something.
            assertThat(messages.findById(UUID.fromString(id))).isPresent();
            assertThat(loads(statistics)).isEqualTo(loadsBefore + 1);
        } finally {
            statistics.setStatisticsEnabled(false);
        }
    }

    @Test
    void historyIsPaginated() {
        String id = submit("acme", message("app@acme.test", "pages@customer.test", "paginated history"));
        awaitStatus(id, "SENT");
        // A long history, as repeated opens make one: 250 events after the message's own.
        Timestamp now = Timestamp.from(Instant.now());
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < 250; i++) {
            rows.add(new Object[] {UUID.fromString(id), "acme", "open", "pages@customer.test", null, now});
        }
        jdbc.batchUpdate("insert into events (message_id, workspace_id, type, recipient, detail, created_at) "
                + "values (?, ?, ?, ?, ?, ?)", rows);
        List<Long> expected = jdbc.queryForList("select id from events where message_id = ? order by id",
                Long.class, UUID.fromString(id));
        assertThat(expected).hasSizeGreaterThan(250);

        // Default page: 100 events and a link to the next page.
        Map<String, Object> page = read(get(key("acme"), "/api/v1/messages/" + id).body());
        assertThat((List<?>) page.get("events")).hasSize(100);
        assertThat((String) page.get("next")).startsWith("/api/v1/messages/" + id + "?after=");

        // Following next with a page of 40 gives every event once, in order, and no next at the end.
        List<Long> seen = new ArrayList<>();
        String next = "/api/v1/messages/" + id + "?limit=40";
        int pages = 0;
        while (next != null && pages++ < 100) {
            Map<String, Object> body = read(get(key("acme"), next).body());
            List<Map<String, Object>> events = events(body);
            assertThat(events).hasSizeLessThanOrEqualTo(40);
            events.forEach(event -> seen.add(((Number) event.get("id")).longValue()));
            assertThat(body).containsEntry("status", "SENT");
            next = (String) body.get("next");
        }
        assertThat(seen).isEqualTo(expected);
        assertThat(pages).isEqualTo((expected.size() + 39) / 40);
    }

    @Test
    void pageParametersAreChecked() {
        String id = submit("acme", message("app@acme.test", "params@customer.test", "page parameters"));
        for (String query : List.of("limit=0", "limit=1001", "limit=ten", "limit=-1")) {
            var response = get(key("acme"), "/api/v1/messages/" + id + "?" + query);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(response.body()).contains("\"field\":\"limit\"").contains("1000");
        }
        for (String query : List.of("after=-5", "after=x")) {
            var response = get(key("acme"), "/api/v1/messages/" + id + "?" + query);
            assertThat(response.statusCode()).as(query).isEqualTo(400);
            assertThat(response.body()).contains("\"field\":\"after\"");
        }
        assertThat(events(read(get(key("acme"), "/api/v1/messages/" + id + "?limit=1000").body()))).isNotNull();
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> events(Map<String, Object> body) {
        return (List<Map<String, Object>>) body.get("events");
    }

    private static long loads(Statistics statistics) {
        return statistics.getEntityStatistics(MessageRecord.class.getName()).getLoadCount();
    }
}
