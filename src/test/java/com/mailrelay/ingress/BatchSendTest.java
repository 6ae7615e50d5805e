package com.mailrelay.ingress;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * POST /api/v1/messages/batch: each message checked and answered on its own, the accepted ones
 * stored in one commit and delivered, each Idempotency-Key answered again with its message, and
 * the batch itself bounded (messages, body) and refused whole when it is not a batch.
 */
class BatchSendTest extends RelayTestSupport {

    private static final String WORKSPACE = "q-batch";
    private static final int SIZE = 500;
    /** The bad items, by index, and the field each one names. */
    private static final Map<Integer, String> BAD = Map.of(7, "to[0]", 250, "subject", 499, "type");

    @Autowired
    MeterRegistry meters;

    @Autowired
    CamelContext camel;

    @Test
    void fiveHundredWithThreeBadOnesStoreTheOthersInOneCommitAnswerEachAndDeliverThem() throws Exception {
        String run = "qb-" + System.nanoTime();
        Map<String, Object> batch = batch(run);
        DistributionSummary commits = meters.get("relay.commit.batch").summary();
        long commitsBefore = commits.count();
        double unitsBefore = commits.totalAmount();

        HttpResponse<String> first;
        // Deliveries (whose outcomes are group-committed too, and update the rows) wait until the
        // commit is looked at.
        camel.getRouteController().stopRoute("queue-wake");
        camel.getRouteController().stopRoute("queue-poll");
        try {
            first = postBatch(key(WORKSPACE), write(batch));
            assertThat(first.statusCode()).as(first.body()).isEqualTo(207);
            Map<String, Object> answer = read(first.body());
            assertThat(answer).containsEntry("accepted", SIZE - BAD.size()).containsEntry("refused", BAD.size());
            List<Map<String, Object>> results = results(answer);
            assertThat(results).hasSize(SIZE);
            for (int i = 0; i < SIZE; i++) {
                Map<String, Object> result = results.get(i);
                assertThat(result).containsEntry("index", i);
                if (BAD.containsKey(i)) {
                    assertThat(result).containsEntry("status", 400).containsEntry("error", "invalid_request")
                            .doesNotContainKey("id");
                    assertThat(fields(result)).as("item " + i).containsExactly(BAD.get(i));
                } else {
                    assertThat(result).containsEntry("status", 202).containsEntry("state", "queued")
                            .doesNotContainKey("duplicate");
                }
            }

            // 497 rows of this run, each the id its item was answered with.
            List<Map<String, Object>> rows = jdbc.queryForList("select id, subject, status, queued_at"
                    + " from messages where workspace_id = ? and subject like ?", WORKSPACE, run + "%");
            assertThat(rows).hasSize(SIZE - BAD.size());
            Set<String> stored = new HashSet<>();
            rows.forEach(row -> stored.add(row.get("id").toString()));
            assertThat(stored).isEqualTo(acceptedIds(results));
            assertThat(rows).allSatisfy(row -> assertThat(row.get("status")).isEqualTo("QUEUED"));

            // One commit: relay_commit_batch saw a transaction of all 497 (one commit per message, or
            // group commits of at most relay.group-commit.max-batch = 200, would not show one).
            assertThat(commits.max()).isGreaterThanOrEqualTo(SIZE - BAD.size());
            assertThat(commits.totalAmount() - unitsBefore).isGreaterThanOrEqualTo(SIZE - BAD.size());
            assertThat(commits.count() - commitsBefore).isLessThan(10);
            if (postgres()) {
                // The database's own word for it: every row was written by the same transaction.
                assertThat(jdbc.queryForObject("select count(distinct xmin::text) from messages"
                        + " where workspace_id = ? and subject like ?", Long.class, WORKSPACE, run + "%")).isEqualTo(1);
            }
        } finally {
            camel.getRouteController().startRoute("queue-poll");
            camel.getRouteController().startRoute("queue-wake");
        }

        // Every accepted one is delivered, once.
        Set<String> ids = acceptedIds(results(read(first.body())));
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() ->
                jdbc.queryForObject("select count(*) from messages where workspace_id = ? and subject like ?"
                        + " and status = 'SENT'", Long.class, WORKSPACE, run + "%") == ids.size());
        Map<String, Integer> copies = new HashMap<>();
        for (MimeMessage received : Upstreams.greenMail("default").getReceivedMessages()) {
            String messageId = messageId(received);
            for (String id : ids) {
                if (messageId != null && messageId.contains(id)) {
                    copies.merge(id, 1, Integer::sum);
                }
            }
        }
        assertThat(copies.keySet()).isEqualTo(ids);
        assertThat(copies.values()).allMatch(count -> count == 1);

        // The same batch again: each item's key answers with its message, nothing new is stored,
        // and the bad ones are refused again.
        HttpResponse<String> again = postBatch(key(WORKSPACE), write(batch));
        assertThat(again.statusCode()).as(again.body()).isEqualTo(207);
        List<Map<String, Object>> firstResults = results(read(first.body()));
        List<Map<String, Object>> repeated = results(read(again.body()));
        for (int i = 0; i < SIZE; i++) {
            if (BAD.containsKey(i)) {
                assertThat(repeated.get(i)).containsEntry("status", 400);
            } else {
                assertThat(repeated.get(i)).containsEntry("status", 202).containsEntry("duplicate", true)
                        .containsEntry("id", firstResults.get(i).get("id")).containsEntry("state", "sent");
            }
        }
        assertThat(jdbc.queryForObject("select count(*) from messages where workspace_id = ? and subject like ?",
                Long.class, WORKSPACE, run + "%")).isEqualTo(SIZE - BAD.size());
    }

    @Test
    void allAcceptedIsA202AndItemsAreRefusedAloneForTheirKey() {
        String run = "qb-keys-" + System.nanoTime();
        Map<String, Object> earlier = item(run, 0);
        submitKeyed(earlier, run + "-single");

        // All accepted: a 202.
        HttpResponse<String> accepted = postBatch(key(WORKSPACE), write(Map.of("messages",
                List.of(item(run, 1), item(run, 6)))));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        Map<String, Object> all = read(accepted.body());
        assertThat(all).containsEntry("accepted", 2).containsEntry("refused", 0);
        assertThat(results(all)).allSatisfy(result -> assertThat(result).containsEntry("status", 202)
                .containsEntry("state", "queued").containsKey("id"));

        // A key used (here by a single POST) with another message: 422 for that item; two items
        // sharing a key: the second 400; a key that is not a string, an item that is not a message: 400.
        Map<String, Object> conflicting = item(run, 2);
        conflicting.put("idempotency_key", run + "-single");
        Map<String, Object> shared1 = item(run, 3);
        shared1.put("idempotency_key", run + "-shared");
        Map<String, Object> shared2 = item(run, 4);
        shared2.put("idempotency_key", run + "-shared");
        Map<String, Object> badKey = item(run, 5);
        badKey.put("idempotency_key", 42);
        HttpResponse<String> mixed = postBatch(key(WORKSPACE), write(Map.of("messages",
                List.of(conflicting, shared1, shared2, badKey, "not a message"))));
        assertThat(mixed.statusCode()).as(mixed.body()).isEqualTo(207);
        Map<String, Object> answer = read(mixed.body());
        assertThat(answer).containsEntry("accepted", 1).containsEntry("refused", 4);
        List<Map<String, Object>> results = results(answer);
        assertThat(results.get(0)).containsEntry("status", 422).containsEntry("error", "idempotency_key_reused");
        assertThat(results.get(1)).containsEntry("status", 202);
        assertThat(results.get(2)).containsEntry("status", 400);
        assertThat(fields(results.get(2))).containsExactly("idempotency_key");
        assertThat(results.get(2).toString()).contains("item 1 of this batch");
        assertThat(fields(results.get(3))).containsExactly("idempotency_key");
        assertThat(fields(results.get(4))).containsExactly("message");
        assertThat(jdbc.queryForObject("select count(*) from messages where workspace_id = ? and subject like ?",
                Long.class, WORKSPACE, run + "%")).isEqualTo(4);
    }

    @Test
    void messagesOverTheRateLimitAreRefusedOneByOneAndTheOthersStored() {
        // q-batch-limited may send 3 messages a day: the fourth and fifth of the batch get their own 429.
        String limited = "q-batch-limited";
        String run = "qb-rate-" + System.nanoTime();
        List<Object> messages = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            messages.add(item(run, i));
        }
        HttpResponse<String> response = postBatch(key(limited), write(Map.of("messages", messages)));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(207);
        Map<String, Object> answer = read(response.body());
        assertThat(answer).containsEntry("accepted", 3).containsEntry("refused", 2);
        List<Map<String, Object>> results = results(answer);
        for (int i = 0; i < 3; i++) {
            assertThat(results.get(i)).containsEntry("status", 202).containsEntry("state", "queued");
        }
        for (int i = 3; i < 5; i++) {
            assertThat(results.get(i)).containsEntry("status", 429).containsEntry("error", "rate_limited")
                    .containsKey("retry_after");
            assertThat((String) results.get(i).get("message")).contains("workspace " + limited + " may send 3");
        }
        // Exactly the accepted ones stored, and the count taken for them only: the next message is refused too.
        assertThat(jdbc.queryForObject("select count(*) from messages where workspace_id = ?", Long.class, limited))
                .isEqualTo(3);
        assertThat(post(key(limited), item(run, 9), Map.of()).statusCode()).isEqualTo(429);
        for (int i = 0; i < 3; i++) {
            awaitStatus((String) results.get(i).get("id"), "SENT");
        }
    }

    @Test
    void overTheLimitsOrNotABatchIsRefusedWholeNamingWhy() throws Exception {
        String run = "qb-limit-" + System.nanoTime();
        List<Object> tooMany = new ArrayList<>();
        for (int i = 0; i <= SIZE; i++) {
            tooMany.add(item(run, i));
        }
        HttpResponse<String> over = postBatch(key(WORKSPACE), write(Map.of("messages", tooMany)));
        assertThat(over.statusCode()).as(over.body()).isEqualTo(413);
        assertThat(read(over.body())).containsEntry("error", "batch_too_large");
        assertThat(over.body()).contains("at most 500 messages (relay.limits.batch-messages); 501 given");

        for (String notABatch : List.of("[]", "{\"messages\": []}", "{\"messages\": {}}", "{\"message\": [{}]}",
                "{\"messages\": [", "null")) {
            HttpResponse<String> refused = postBatch(key(WORKSPACE), notABatch);
            assertThat(refused.statusCode()).as(notABatch + " -> " + refused.body()).isEqualTo(400);
            assertThat(read(refused.body())).containsEntry("error", "invalid_request").containsKey("errors");
        }
        assertThat(jdbc.queryForObject("select count(*) from messages where workspace_id = ? and subject like ?",
                Long.class, WORKSPACE, run + "%")).isZero();

        // The body: relay.limits.batch-body-size (20MB), not relay.max-message-size (10MB)...
        assertThat(declaredLength(12L * 1024 * 1024, 1500)).doesNotStartWith("HTTP/1.1 413");
        // ...and bounded, refused before a byte of it is read.
        String refused = declaredLength(20L * 1024 * 1024 + 1, 20_000);
        assertThat(refused).startsWith("HTTP/1.1 413").contains("relay.limits.batch-body-size");

        // Without a key: 401, as everywhere.
        assertThat(postBatch(null, write(Map.of("messages", List.of(item(run, 0))))).statusCode()).isEqualTo(401);
    }

    /** The status line and body the relay answers a batch whose Content-Length is {@code length}, of which a few bytes are sent. */
    private String declaredLength(long length, int waitMillis) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(waitMillis);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /api/v1/messages/batch HTTP/1.1\r\nHost: relay.test\r\nAuthorization: Bearer "
                    + key(WORKSPACE) + "\r\nContent-Type: application/json\r\nContent-Length: " + length
                    + "\r\n\r\n{\"messages\": [").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            byte[] buffer = new byte[4096];
            try {
                int n;
                while ((n = in.read(buffer)) > 0) {
                    answer.write(buffer, 0, n);
                    if (answer.toString(StandardCharsets.UTF_8).contains("}")) {
                        break;
                    }
                }
            } catch (java.net.SocketTimeoutException waiting) {
                // A body still awaited: the relay is reading it, not refusing it.
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    private static Map<String, Object> batch(String run) {
        List<Object> messages = new ArrayList<>();
        for (int i = 0; i < SIZE; i++) {
            Map<String, Object> message = item(run, i);
            message.put("idempotency_key", run + "-" + i);
            if (i == 7) {
                message.put("to", List.of("not-an-address"));
            } else if (i == 250) {
                message.remove("subject");
            } else if (i == 499) {
                message.put("type", "newsletter");
            }
            messages.add(message);
        }
        return Map.of("messages", messages);
    }

    private static Map<String, Object> item(String run, int i) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("from", "App <app@q-batch.test>");
        message.put("to", List.of("reader-" + i + "@customer.test"));
        message.put("subject", run + " #" + i);
        message.put("text", "Hello reader " + i);
        return message;
    }

    private String submitKeyed(Map<String, Object> message, String idempotencyKey) {
        HttpResponse<String> response = post(key(WORKSPACE), message, Map.of("Idempotency-Key", idempotencyKey));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        return (String) read(response.body()).get("id");
    }

    private HttpResponse<String> postBatch(String apiKey, String json) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/api/v1/messages/batch"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        return send(request.build());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> results(Map<String, Object> answer) {
        return (List<Map<String, Object>>) answer.get("results");
    }

    @SuppressWarnings("unchecked")
    private static List<String> fields(Map<String, Object> result) {
        return ((List<Map<String, Object>>) result.get("errors")).stream().map(e -> (String) e.get("field")).toList();
    }

    private static Set<String> acceptedIds(List<Map<String, Object>> results) {
        Set<String> ids = new HashSet<>();
        results.stream().filter(r -> Integer.valueOf(202).equals(r.get("status")))
                .forEach(r -> ids.add((String) r.get("id")));
        return ids;
    }

    private boolean postgres() {
        return jdbc.execute((org.springframework.jdbc.core.ConnectionCallback<Boolean>) connection ->
                connection.getMetaData().getURL().startsWith("jdbc:postgresql:"));
    }

    private static String messageId(MimeMessage message) {
        try {
            return message.getMessageID();
        } catch (MessagingException e) {
            return null;
        }
    }
}
