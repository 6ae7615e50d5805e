package com.mailrelay.history;

import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * "Why did it fail?": each provider tried in a delivery attempt is in the message's history with
 * what it answered — a greylisting SMTP upstream's multi-line refusal per recipient, then the
 * success of the next provider; an HTTP API's status and the start of its body for a 503 and a
 * 400; a provider at its quota as not tried; no route at all — and each webhook POST is in the
 * delivery log with its status, latency and the start of the receiver's answer. Failed webhooks are
 * replayed (posted again, once) and discarded (only the events named), audited.
 */
class AttemptHistoryTest extends RelayTestSupport {

    private static final String WORKSPACE = "ops-history";
    private static final String HOOKS = "ops-history-hooks";
    private static final String HOOK_PATH = "/ops-history/hook";

    @Test
    void aRefusingProviderAndTheOneThatDeliveredAreTwoRowsInOrder() {
        String id = submit(WORKSPACE, Map.of("from", "app@history.test",
                "to", List.of("ada@smtp.history.test", "bob@smtp.history.test"), "subject", "greylisted", "text", "hi"));
        awaitStatus(id, "SENT");

        List<Map<String, Object>> attempts = attempts(key(WORKSPACE), id);
        assertThat(attempts).hasSize(2);
        Map<String, Object> refused = attempts.get(0);
        assertThat(refused).containsEntry("provider", "history-greylisting").containsEntry("outcome", "TRANSIENT")
                .containsEntry("code", "451 4.7.1").containsEntry("attempt", 1);
        // The failing command of each recipient with every line of its reply, as the upstream sent them.
        assertThat((String) refused.get("reply")).contains(
                "RCPT TO:<ada@smtp.history.test>\n451-4.7.1 Greylisted: this sender is new here\n"
                        + "451-4.7.1 please try again in 5 minutes\n451 4.7.1 see https://mx.history.test/greylisting",
                "RCPT TO:<bob@smtp.history.test>\n451-4.7.1 Greylisted");
        assertThat(((Number) refused.get("duration_ms")).intValue()).isGreaterThanOrEqualTo(0);

        Map<String, Object> sent = attempts.get(1);
        assertThat(sent).containsEntry("provider", "default").containsEntry("outcome", "SENT").containsEntry("attempt", 1);
        // The upstream's own reply to the end of DATA, not the relay's words.
        assertThat((String) sent.get("code")).startsWith("250");
        assertThat((String) sent.get("reply")).startsWith("250");
        assertThat((String) sent.get("started_at")).isGreaterThanOrEqualTo((String) refused.get("started_at"));

        // The admin key reads it too; another workspace's key finds no such message.
        assertThat(attempts("admin-key", id)).hasSize(2);
        HttpResponse<String> foreign = get(key("acme"), "/api/v1/messages/" + id + "/attempts");
        assertThat(foreign.statusCode()).as(foreign.body()).isEqualTo(404);
    }

    @Test
    void anHttpProviderKeepsItsStatusAndTheStartOfItsBody() {
        WireMockServer apis = Upstreams.providerApis();
        String busy = "upstream busy: the sending queue is full, retry later. " + "x".repeat(3000);
        apis.stubFor(WireMock.post("/ops-history/busy/v3/history.test/messages.mime")
                .willReturn(aResponse().withStatus(503).withHeader("Content-Type", "text/plain").withBody(busy)));
        apis.stubFor(WireMock.post("/ops-history/refusing/v3/history.test/messages.mime")
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"message\": \"'to' parameter is not a valid address. please check documentation\"}")));

        String id = submit(WORKSPACE, message("app@history.test", "carol@http.history.test", "http refusal"));
        awaitStatus(id, "FAILED");

        List<Map<String, Object>> attempts = attempts(key(WORKSPACE), id);
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0)).containsEntry("provider", "history-http-busy").containsEntry("outcome", "TRANSIENT")
                .containsEntry("code", "503");
        String start = (String) attempts.get(0).get("reply");
        assertThat(start).startsWith("HTTP 503: upstream busy: the sending queue is full, retry later. xxx");
        assertThat(start.length()).isLessThanOrEqualTo(1025);
        assertThat(attempts.get(1)).containsEntry("provider", "history-http-refusing")
                .containsEntry("outcome", "PERMANENT").containsEntry("code", "400");
        assertThat((String) attempts.get(1).get("reply"))
                .isEqualTo("HTTP 400: {\"message\": \"'to' parameter is not a valid address. please check documentation\"}");
    }

    @Test
    void aProviderAtItsQuotaIsNotTriedAndTheNextOneDelivers() {
        String first = submit(WORKSPACE, message("app@history.test", "dan@quota.history.test", "quota 1"));
        awaitStatus(first, "SENT");
        assertThat(attempts(key(WORKSPACE), first)).singleElement().satisfies(row -> assertThat(row)
                .containsEntry("provider", "history-quota").containsEntry("outcome", "SENT"));

        String second = submit(WORKSPACE, message("app@history.test", "dan@quota.history.test", "quota 2"));
        awaitStatus(second, "SENT");
        List<Map<String, Object>> attempts = attempts(key(WORKSPACE), second);
        assertThat(attempts).hasSize(2);
        assertThat(attempts.get(0)).containsEntry("provider", "history-quota").containsEntry("outcome", "NOT_TRIED")
                .containsEntry("code", null);
        assertThat(attempts.get(1)).containsEntry("provider", "default").containsEntry("outcome", "SENT");
    }

    @Test
    void anAttemptThatNoRouteTookIsRecordedWithoutAProvider() {
        String id = submit(WORKSPACE, message("app@history.test", "eve@nowhere.history.test", "no route"));
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> !attempts(key(WORKSPACE), id).isEmpty());
        Map<String, Object> attempt = attempts(key(WORKSPACE), id).get(0);
        assertThat(attempt).containsEntry("provider", null).containsEntry("outcome", "NOT_TRIED")
                .containsEntry("attempt", 1);
        assertThat((String) attempt.get("reply")).contains("no provider route handled message " + id);
    }

    @Test
    void attemptsArePagedByCursorAndBadParametersAreNamed() {
        String id = submit(WORKSPACE, Map.of("from", "app@history.test",
                "to", List.of("fay@smtp.history.test"), "subject", "paged", "text", "hi"));
        awaitStatus(id, "SENT");
        Map<String, Object> first = read(get(key(WORKSPACE), "/api/v1/messages/" + id + "/attempts?limit=1").body());
        assertThat((List<?>) first.get("attempts")).hasSize(1);
        assertThat(first.get("next_cursor")).isNotNull();
        Map<String, Object> second = read(get(key(WORKSPACE), "/api/v1/messages/" + id + "/attempts?limit=1&cursor="
                + first.get("next_cursor")).body());
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> rest = (List<Map<String, Object>>) second.get("attempts");
        assertThat(rest).singleElement().satisfies(row -> assertThat(row).containsEntry("outcome", "SENT"));
        assertThat(second.get("next_cursor")).isNull();

        HttpResponse<String> bad = get(key(WORKSPACE), "/api/v1/messages/" + id + "/attempts?limit=0&cursor=x");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("limit", "cursor");
        assertThat(get(key(WORKSPACE), "/api/v1/messages/" + UUID.randomUUID() + "/attempts").statusCode())
                .isEqualTo(404);
        HttpResponse<String> foreign = get(key(WORKSPACE), "/api/v1/webhooks/attempts?workspace=acme");
        assertThat(foreign.statusCode()).isEqualTo(403);
    }

    @Test
    void aFailedWebhookIsInTheLogAndIsReplayedOnceOrDiscarded() {
        WireMockServer receiver = Upstreams.webhooks();
        receiver.stubFor(WireMock.post(WireMock.urlPathEqualTo(HOOK_PATH)).atPriority(10)
                .willReturn(aResponse().withStatus(200).withBody("ok")));

        // A receiver that fails with 500 and says why: retried, and logged with its answer.
        // Each message's events are told apart by their recipient (in every event), stubbed before they exist.
        String gus = "gus-" + UUID.randomUUID() + "@customer.test";
        String hal = "hal-" + UUID.randomUUID() + "@customer.test";
        receiver.stubFor(forRecipient(gus).willReturn(aResponse().withStatus(500)
                .withBody("receiver broke: database is locked " + "y".repeat(3000))));
        receiver.stubFor(forRecipient(hal).willReturn(aResponse().withStatus(413).withBody("too large for us")));
        String first = submit(HOOKS, message("app@hooks.history.test", gus, "hook 1"));
        awaitStatus(first, "SENT");
        long firstEvent = sendEvent(first);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> jdbc.queryForObject(
                "select count(*) from webhook_attempts where first_event_id = ? and status_code = 500", Long.class,
                firstEvent) > 0);
        Map<String, Object> logged = webhookAttempts("outcome=RETRY").stream()
                .filter(row -> ((Number) row.get("first_event_id")).longValue() == firstEvent).findFirst().orElseThrow();
        assertThat(logged).containsEntry("workspace", HOOKS).containsEntry("status_code", 500).containsEntry("events", 1)
                .containsEntry("url", "http://127.0.0.1:" + receiver.port() + HOOK_PATH);
        assertThat((String) logged.get("response")).startsWith("receiver broke: database is locked yyy");
        assertThat(((String) logged.get("response")).length()).isLessThanOrEqualTo(1025);
        assertThat(((Number) logged.get("latency_ms")).intValue()).isGreaterThanOrEqualTo(0);

        // Refused as too large: given up at once (FAILED), and logged so.
        receiver.stubFor(forRecipient(gus).willReturn(aResponse().withStatus(413).withBody("too large for us")));
        awaitDeliveryState(firstEvent, "FAILED");
        assertThat(jdbc.queryForObject("select count(*) from webhook_attempts where first_event_id = ?"
                + " and outcome = 'FAILED' and status_code = 413 and response = 'too large for us'", Long.class, firstEvent))
                .isEqualTo(1);

        String second = submit(HOOKS, message("app@hooks.history.test", hal, "hook 2"));
        awaitStatus(second, "SENT");
        long secondEvent = sendEvent(second);
        awaitDeliveryState(secondEvent, "FAILED");

        // Both are listed as failed, to their workspace's key and to the admin key naming the workspace.
        assertThat(failedIds(key(HOOKS), "")).contains(firstEvent, secondEvent);
        assertThat(failedIds("admin-key", "?workspace=" + HOOKS)).contains(firstEvent, secondEvent);
        assertThat(failedIds(key(WORKSPACE), "")).doesNotContain(firstEvent, secondEvent);

        // Discard names one event: only that one changes.
        HttpResponse<String> discarded = postJson(key(HOOKS), "/api/v1/webhooks/failed/discard",
                Map.of("event_ids", List.of(secondEvent), "reason", "the receiver dropped this type"));
        assertThat(discarded.statusCode()).as(discarded.body()).isEqualTo(200);
        assertThat(read(discarded.body())).containsEntry("count", 1);
        assertThat(deliveryState(secondEvent)).isEqualTo("DISCARDED");
        assertThat(deliveryState(firstEvent)).isEqualTo("FAILED");
        assertThat(postJson(key(HOOKS), "/api/v1/webhooks/failed/discard", Map.of("event_ids", List.of(firstEvent)))
                .statusCode()).isEqualTo(400);

        // Replay sends the first back; the receiver takes it now: posted once more, and delivered.
        receiver.stubFor(forRecipient(gus).willReturn(aResponse().withStatus(200).withBody("ok")));
        int postsBefore = posts(gus);
        HttpResponse<String> replayed = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/api/v1/webhooks/failed/" + firstEvent + "/replay"))
                .header("Authorization", "Bearer " + key(HOOKS)).POST(HttpRequest.BodyPublishers.noBody()).build());
        assertThat(replayed.statusCode()).as(replayed.body()).isEqualTo(200);
        assertThat(read(replayed.body())).containsEntry("count", 1);
        awaitDeliveryState(firstEvent, "DELIVERED");
        assertThat(posts(gus)).isEqualTo(postsBefore + 1);
        assertThat(deliveryState(secondEvent)).isEqualTo("DISCARDED");

        // Both actions are audited, with the events they changed.
        List<Map<String, Object>> audit = jdbc.queryForList("select action, workspace_id, change_json from audit_log"
                + " where action in ('webhook.replay', 'webhook.discard') and workspace_id = ? order by id", HOOKS);
        assertThat(audit).extracting(row -> row.get("action")).containsExactly("webhook.discard", "webhook.replay");
        assertThat((String) audit.get(0).get("change_json")).contains(String.valueOf(secondEvent),
                "the receiver dropped this type");
        assertThat((String) audit.get(1).get("change_json")).contains(String.valueOf(firstEvent));

        // Nothing FAILED is left to replay: a second replay changes nothing.
        HttpResponse<String> again = postJson(key(HOOKS), "/api/v1/webhooks/failed/replay",
                Map.of("event_ids", List.of(firstEvent, secondEvent)));
        assertThat(read(again.body())).containsEntry("count", 0);
    }

    /** The receiver's answer to the POSTs that carry the recipient's events (form-encoded: its @ is %40). */
    private static com.github.tomakehurst.wiremock.client.MappingBuilder forRecipient(String address) {
        return WireMock.post(WireMock.urlPathEqualTo(HOOK_PATH)).atPriority(1)
                .withRequestBody(WireMock.containing(java.net.URLEncoder.encode(address, StandardCharsets.UTF_8)));
    }

    /** POSTs of the webhook receiver that carried the recipient's events. */
    private static int posts(String id) {
        return (int) Upstreams.webhooks().getAllServeEvents().stream()
                .filter(event -> event.getRequest().getUrl().startsWith(HOOK_PATH))
                .filter(event -> URLDecoder.decode(event.getRequest().getBodyAsString(), StandardCharsets.UTF_8)
                        .contains(id))
                .count();
    }

    @SuppressWarnings("unchecked")
    private List<Long> failedIds(String apiKey, String query) {
        HttpResponse<String> answer = get(apiKey, "/api/v1/webhooks/failed" + query);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return ((List<Map<String, Object>>) read(answer.body()).get("events")).stream()
                .map(event -> ((Number) event.get("id")).longValue()).toList();
    }

    private long sendEvent(String messageId) {
        return jdbc.queryForObject("select id from events where message_id = ? and type = 'send'", Long.class,
                UUID.fromString(messageId));
    }

    private String deliveryState(long eventId) {
        return jdbc.queryForObject("select delivery_state from events where id = ?", String.class, eventId);
    }

    private void awaitDeliveryState(long eventId, String state) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(deliveryState(eventId)).isEqualTo(state));
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> attempts(String apiKey, String id) {
        HttpResponse<String> answer = get(apiKey, "/api/v1/messages/" + id + "/attempts");
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return (List<Map<String, Object>>) read(answer.body()).get("attempts");
    }

    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> webhookAttempts(String filter) {
        HttpResponse<String> answer = get(key(HOOKS), "/api/v1/webhooks/attempts?limit=1000&" + filter);
        assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
        return (List<Map<String, Object>>) read(answer.body()).get("attempts");
    }

    private HttpResponse<String> postJson(String apiKey, String path, Object body) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(write(body))).build());
    }
}
