package com.mailrelay.events;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Workspace "hooked" posts its events to a WireMock receiver that fails three times, then takes
 * them: every event arrives exactly once, in order, in Mandrill's format, correctly signed, with an
 * id of its own that a redelivery repeats. Batches are bounded by bytes.
 */
class WebhookDeliveryTest extends RelayTestSupport {

    @Autowired
    private CamelContext camel;

    @Test
    void eventsArriveOnceInOrderAndSignedAfterTheReceiverRecovers() throws Exception {
        WireMockServer receiver = Upstreams.webhooks();
        receiver.resetAll();
        String[] states = {STARTED, "failed once", "failed twice", "recovered"};
        for (int i = 0; i < 3; i++) {
            receiver.stubFor(WireMock.post("/mandrill").inScenario("flaky").whenScenarioStateIs(states[i])
                    .willReturn(aResponse().withStatus(500)).willSetStateTo(states[i + 1]));
        }
        receiver.stubFor(WireMock.post("/mandrill").inScenario("flaky").whenScenarioStateIs("recovered")
                .willReturn(aResponse().withStatus(200)));

        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(submit("hooked", Map.of("from", "app@hooked.test", "to", List.of("a" + i + "@customer.test",
                    "b" + i + "@customer.test"), "subject", "hooked " + i, "text", "x", "tags", List.of("t" + i),
                    "metadata", Map.of("n", i))));
        }
        for (String id : ids) {
            awaitStatus(id, "SENT");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "select count(*) from events where workspace_id = 'hooked' and delivery_state = 'PENDING'",
                Long.class) == 0);

        List<ServeEvent> requests = new ArrayList<>(receiver.getAllServeEvents());
        requests.sort((a, b) -> a.getRequest().getLoggedDate().compareTo(b.getRequest().getLoggedDate()));
        assertThat(requests.stream().filter(r -> r.getResponse().getStatus() == 500)).hasSize(3);

        List<Map<String, Object>> delivered = new ArrayList<>();
        List<Map<String, Object>> refused = new ArrayList<>();
        String url = "http://127.0.0.1:" + receiver.port() + "/mandrill";
        for (ServeEvent request : requests) {
            String body = request.getRequest().getBodyAsString();
            assertThat(request.getRequest().getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
            assertThat(body).startsWith("mandrill_events=");
            String events = MandrillPosts.json(body);
            assertThat(request.getRequest().getHeader("X-Mandrill-Signature"))
                    .isEqualTo(hmacSha1Base64("hook-secret", url + "mandrill_events" + events));
            List<Map<String, Object>> posted = MandrillPosts.eventList(body);
            (request.getResponse().getStatus() == 200 ? delivered : refused).addAll(posted);
        }
        // Each event has an id of its own, and a batch posted again carries the same events under
        // the same ids: receivers can drop what they already took.
        assertThat(delivered).extracting(e -> e.get(MandrillEvents.EVENT_ID)).doesNotHaveDuplicates()
                .allSatisfy(eventId -> assertThat((String) eventId).matches("[0-9]+"));
        assertThat(refused).isNotEmpty().allSatisfy(again -> assertThat(delivered).contains(again));

        // Exactly the six send events (two recipients × three messages), once each, and each
        // message's events in the order they happened (the messages themselves were sent in parallel).
        List<String> expected = new ArrayList<>();
        for (String id : ids) {
            expected.add(id + " " + "a" + ids.indexOf(id) + "@customer.test");
            expected.add(id + " " + "b" + ids.indexOf(id) + "@customer.test");
        }
        List<String> got = delivered.stream().map(e -> e.get("_id") + " " + ((Map<?, ?>) e.get("msg")).get("email"))
                .toList();
        assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
        for (int i = 0; i < ids.size(); i++) {
            assertThat(got.indexOf(ids.get(i) + " a" + i + "@customer.test"))
                    .isLessThan(got.indexOf(ids.get(i) + " b" + i + "@customer.test"));
        }
        Map<?, ?> first = delivered.stream().filter(e -> ids.get(0).equals(e.get("_id"))).findFirst().orElseThrow();
        assertThat(first.get("event")).isEqualTo("send");
        assertThat(first.get("ts")).isInstanceOf(Number.class);
        Map<?, ?> msg = (Map<?, ?>) first.get("msg");
        assertThat(msg.get("_id")).isEqualTo(ids.get(0));
        assertThat(msg.get("state")).isEqualTo("sent");
        assertThat(msg.get("subject")).isEqualTo("hooked 0");
        assertThat(msg.get("sender")).isEqualTo("app@hooked.test");
        assertThat(msg.get("tags")).isEqualTo(List.of("t0"));
        assertThat(msg.get("metadata")).isEqualTo(Map.of("n", 0));
        assertThat(jdbc.queryForObject("select count(*) from events where message_id = ? and delivered_at is not null",
                Long.class, UUID.fromString(ids.get(2)))).isEqualTo(2);
    }

    @Test
    void batchesAreBoundedByBytesAndAnEventLargerThanTheBoundGoesAlone() throws Exception {
        WireMockServer receiver = Upstreams.webhooks();
        receiver.resetAll();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(200)));
        long limit = 64 * 1024;                            // relay.webhooks.batch-bytes in application-test.yml
        List<String> recipients = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            recipients.add("wide" + i + "@customer.test");
        }
        // Held back until their metadata is large (as a message accepted under a larger metadata
        // limit would have it): twelve events of ~8 KB, and one of ~100 KB. The workers are stopped,
        // not the poll: each send hands its events on at once.
        camel.getRouteController().stopRoute("webhook-deliver");
        String wide;
        String huge;
        try {
            wide = submit("hooked", Map.of("from", "app@hooked.test", "to", recipients, "subject", "wide", "text", "x"));
            huge = submit("hooked", message("app@hooked.test", "huge@customer.test", "huge"));
            awaitStatus(wide, "SENT");
            awaitStatus(huge, "SENT");
            jdbc.update("update messages set metadata = ? where id = ?", write(Map.of("m", "w".repeat(8000))),
                    UUID.fromString(wide));
            jdbc.update("update messages set metadata = ? where id = ?", write(Map.of("m", "h".repeat(100_000))),
                    UUID.fromString(huge));
        } finally {
            camel.getRouteController().startRoute("webhook-deliver");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                "select count(*) from events where message_id in (?, ?) and delivery_state = 'DELIVERED'", Long.class,
                UUID.fromString(wide), UUID.fromString(huge)) == 13);

        List<ServeEvent> requests = new ArrayList<>(receiver.getAllServeEvents());
        requests.sort((a, b) -> a.getRequest().getLoggedDate().compareTo(b.getRequest().getLoggedDate()));
        List<String> order = new ArrayList<>();
        int widePosts = 0;
        for (ServeEvent request : requests) {
            String body = request.getRequest().getBodyAsString();
            String events = MandrillPosts.json(body);
            List<Map<String, Object>> posted = MandrillPosts.eventList(body);
            if (events.getBytes(StandardCharsets.UTF_8).length > limit) {
                assertThat(posted).as("only a single event may exceed the bound").hasSize(1);
                assertThat(posted.get(0).get("_id")).isEqualTo(huge);
            }
            if (posted.stream().anyMatch(e -> wide.equals(e.get("_id")))) {
                widePosts++;
            }
            posted.forEach(e -> order.add(e.get("_id") + " " + ((Map<?, ?>) e.get("msg")).get("email")));
        }
        assertThat(widePosts).as("twelve 8 KB events need two 64 KB posts at least").isGreaterThanOrEqualTo(2);
        List<String> expected = new ArrayList<>();
        recipients.forEach(r -> expected.add(wide + " " + r));
        assertThat(order).containsSubsequence(expected).contains(huge + " huge@customer.test").doesNotHaveDuplicates();
        receiver.resetAll();
    }

    @Test
    void anEventTheReceiverRefusesAsTooLargeIsGivenUpAtOnceAndTheQueueMovesOn() throws Exception {
        WireMockServer receiver = Upstreams.webhooks();
        receiver.resetAll();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(200)));
        receiver.stubFor(WireMock.post("/mandrill").withRequestBody(WireMock.containing("refused-as-too-large"))
                .willReturn(aResponse().withStatus(413)));
        camel.getRouteController().stopRoute("webhook-deliver");
        String refused;
        String next;
        try {
            // Larger than batch-bytes: posted alone.
            refused = submit("hooked", message("app@hooked.test", "big@customer.test", "refused"));
            awaitStatus(refused, "SENT");
            jdbc.update("update messages set metadata = ? where id = ?",
                    write(Map.of("refused-as-too-large", "b".repeat(70_000))), UUID.fromString(refused));
            next = submit("hooked", message("app@hooked.test", "next@customer.test", "next"));
            awaitStatus(next, "SENT");
        } finally {
            camel.getRouteController().startRoute("webhook-deliver");
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> "DELIVERED".equals(jdbc.queryForObject(
                "select delivery_state from events where message_id = ?", String.class, UUID.fromString(next))));
        assertThat(jdbc.queryForMap("select delivery_state, attempts, last_error from events where message_id = ?",
                UUID.fromString(refused))).containsEntry("delivery_state", "FAILED").containsEntry("attempts", 1)
                .hasEntrySatisfying("last_error", error -> assertThat((String) error).contains("413"));
        receiver.resetAll();
    }

    @Test
    void batchesFailingPastMaxAgeAreMarkedFailedAndListed() {
        // An event older than max-age (24h) whose delivery fails is given up at once.
        WireMockServer receiver = Upstreams.webhooks();
        receiver.resetAll();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(503)));
        String id = submit("hooked", message("app@hooked.test", "old@customer.test", "old event"));
        awaitStatus(id, "SENT");
        jdbc.update("update events set created_at = created_at - interval '2' day where message_id = ?",
                UUID.fromString(id));
        await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.queryForObject(
                "select delivery_state from events where message_id = ?", String.class, UUID.fromString(id))
                .equals("FAILED"));
        String failed = get(key("hooked"), "/api/v1/webhooks/failed").body();
        assertThat(failed).contains(id).contains("503");
        receiver.resetAll();
    }

    private static String hmacSha1Base64(String key, String data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA1");
        mac.init(new SecretKeySpec(key.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
        return Base64.getEncoder().encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
    }
}
