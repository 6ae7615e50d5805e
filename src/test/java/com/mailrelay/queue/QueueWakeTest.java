package com.mailrelay.queue;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.apache.camel.component.seda.SedaEndpoint;
import org.apache.camel.support.ScheduledPollConsumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.TestPropertySource;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The wake-up path: with the queue's and the webhooks' polls an hour apart (once they have backed
 * off), accepted messages are still delivered and their events posted to the webhook, because the
 * accept's commit wakes the claim ({@code queue-wake}) and the outcome's commit wakes the webhook
 * delivery ({@code events-written}). A scheduled send does not wake the claim.
 */
@TestPropertySource(properties = {"relay.worker.poll-delay=1h", "relay.webhooks.poll-delay=1h"})
@DirtiesContext
class QueueWakeTest extends RelayTestSupport {

    @Autowired
    private CamelContext camel;

    @BeforeEach
    void pollsAreAnHourAway() {
        // The queue's poll backs off to its poll-delay after a few idle polls; the webhooks' poll
        // polls once shortly after the start, then only an hour later.
        ScheduledPollConsumer queuePoll = (ScheduledPollConsumer) camel.getRoute("queue-poll").getConsumer();
        await().atMost(Duration.ofSeconds(30)).until(() -> queuePoll.getBackoffCounter() > 0);
        ScheduledPollConsumer webhookPoll = (ScheduledPollConsumer) camel.getRoute("webhook-poll").getConsumer();
        await().atMost(Duration.ofSeconds(30)).until(webhookPoll::isFirstPollDone);
    }

    @Test
    void aRestAcceptIsDeliveredAndItsWebhookPostedThoughThePollsAreAnHourApart() {
        WireMockServer receiver = Upstreams.webhooks();
        receiver.resetAll();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(200)));
        try {
            String id = submit("hooked", message("app@hooked.test", "woken@customer.test", "woken"));

            awaitStatus(id, "SENT");
            await().atMost(Duration.ofSeconds(30)).until(() -> postedMessages(receiver).contains(id));
            // Recorded once the receiver answered.
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(jdbc.queryForList(
                    "select delivery_state from events where message_id = ?", String.class, UUID.fromString(id)))
                    .containsExactly("DELIVERED"));
        } finally {
            receiver.resetAll();
        }
    }

    @Test
    void everyMessageOfABatchIsDelivered() {
        List<Map<String, Object>> items = List.of(
                message("app@acme.test", "batch-a@customer.test", "woken batch a"),
                message("app@acme.test", "batch-b@customer.test", "woken batch b"));
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/api/v1/messages/batch"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + key("acme"))
                .POST(HttpRequest.BodyPublishers.ofString(write(Map.of("messages", items)))).build());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> results = (List<Map<String, Object>>) read(response.body()).get("results");
        assertThat(results).hasSize(2);
        for (Map<String, Object> result : results) {
            awaitStatus((String) result.get("id"), "SENT");
        }
    }

    @Test
    void aScheduledSendDoesNotWakeTheClaimAMessageDueNowDoes() throws Exception {
        SedaEndpoint wake = camel.getEndpoint(QueueRoutes.WAKE, SedaEndpoint.class);
        // With its consumer stopped, what the accepts offer stays in the wake-up queue to be looked at.
        camel.getRouteController().stopRoute("queue-wake");
        try {
            wake.getQueue().clear();
            Map<String, Object> later = new HashMap<>(message("app@acme.test", "later@customer.test",
                    "scheduled, not woken"));
            later.put("send_at", Instant.now().plus(Duration.ofHours(2)).toString());
            HttpResponse<String> scheduled = post(key("acme"), later, Map.of());
            assertThat(scheduled.statusCode()).as(scheduled.body()).isEqualTo(202);
            assertThat(wake.getCurrentQueueSize()).as("wake-ups after a scheduled send").isZero();

            String now = submit("acme", message("app@acme.test", "now@customer.test", "due now, woken"));
            assertThat(wake.getCurrentQueueSize()).as("wake-ups after a message due now").isOne();

            // A second one while a wake-up waits: dropped, not queued behind it, and the accept answered.
            String again = submit("acme", message("app@acme.test", "again@customer.test", "due now, coalesced"));
            assertThat(wake.getCurrentQueueSize()).isOne();

            camel.getRouteController().startRoute("queue-wake");
            awaitStatus(now, "SENT");
            awaitStatus(again, "SENT");
            String scheduledId = (String) read(scheduled.body()).get("id");
            assertThat(status(scheduledId)).isEqualTo("QUEUED");
            jdbc.update("delete from messages where id = ?", UUID.fromString(scheduledId));
        } finally {
            camel.getRouteController().startRoute("queue-wake");
        }
    }

    /** The message ids of the events the receiver was posted. */
    private static List<String> postedMessages(WireMockServer receiver) {
        return receiver.getAllServeEvents().stream()
                .filter(request -> request.getRequest().getUrl().equals("/mandrill"))
                .flatMap(request -> MandrillPosts.eventList(request.getRequest().getBodyAsString()).stream())
                .map(event -> (String) event.get("_id"))
                .toList();
    }
}
