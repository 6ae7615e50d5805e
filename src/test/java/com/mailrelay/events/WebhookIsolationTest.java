package com.mailrelay.events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.transaction.support.TransactionTemplate;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

/**
 * Workspace "unanswered" posts to a receiver that takes the request and never answers; meanwhile
 * workspace "hooked" gets its events within seconds, nothing of "unanswered" is locked in the
 * database, and a second claim of "unanswered" (as another instance would make) gets nothing.
 */
class WebhookIsolationTest extends RelayTestSupport {

    @Autowired
    private TransactionTemplate transaction;

    @Autowired
    private WebhookOutbox outbox;

    @Test
    void aReceiverThatNeverAnswersHoldsOnlyItsOwnWorkspace() {
        Upstreams.HeldReceiver held = Upstreams.held();
        held.hold();
        WireMockServer receiver = Upstreams.webhooks();
        receiver.resetAll();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(200)));
        try {
            String first = submit("unanswered", message("app@unanswered.test", "s0@customer.test", "unanswered 0"));
            awaitStatus(first, "SENT");
            await().atMost(Duration.ofSeconds(30)).until(() -> held.bodies().size() == 1);

            // While that POST hangs: hooked's events arrive, within seconds.
            long start = System.nanoTime();
            List<String> hooked = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                hooked.add(submit("hooked", Map.of("from", "app@hooked.test", "to",
                        List.of("x" + i + "@customer.test", "y" + i + "@customer.test"), "subject", "free " + i,
                        "text", "x")));
            }
            await().atMost(Duration.ofSeconds(8)).until(() -> jdbc.queryForObject(
                    "select count(*) from events where message_id in (?, ?, ?) and delivery_state = 'DELIVERED'",
                    Long.class, hooked.stream().map(UUID::fromString).toArray()) == 6);
            long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
            // ... and the unanswered POST has still not ended (no outcome recorded, the lease held).
            assertThat(jdbc.queryForObject("select max(attempts) from events where workspace_id = 'unanswered'",
                    Integer.class)).isZero();
            assertThat(jdbc.queryForObject("select owner from webhook_leases where workspace_id = 'unanswered'",
                    String.class)).isNotNull();
            assertThat(held.bodies()).hasSize(1);
            assertThat(seconds).isLessThan(8);

            // No row lock is held across the POST: unanswered's event rows and message row can be
            // locked and updated from another connection at once.
            assertTimeoutPreemptively(Duration.ofSeconds(5), () -> transaction.executeWithoutResult(tx -> {
                jdbc.queryForList("select id from events where workspace_id = 'unanswered' for update");
                jdbc.update("update events set detail = detail where workspace_id = 'unanswered'");
                jdbc.queryForList("select id from messages where id = ? for update", UUID.fromString(first));
                jdbc.update("update messages set updated_at = updated_at where id = ?", UUID.fromString(first));
            }));
            // The lease keeps everyone else off the batch: a claim now (another instance's) gets nothing.
            assertThat(outbox.claim("unanswered")).isNull();

            // hooked's events came in order, each with its own id.
            List<Long> hookedIds = receivedIds(receiver);
            assertThat(hookedIds).isSortedAccordingTo(Long::compare).doesNotHaveDuplicates()
                    .containsAll(jdbc.queryForList("select id from events where message_id in (?, ?, ?)", Long.class,
                            hooked.stream().map(UUID::fromString).toArray()));

            // Released, the unanswered receiver takes the batch; later events follow in order.
            held.release();
            List<String> later = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                later.add(submit("unanswered", message("app@unanswered.test", "s" + i + "@customer.test",
                        "unanswered " + i)));
            }
            for (String id : later) {
                awaitStatus(id, "SENT");
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> jdbc.queryForObject(
                    "select count(*) from events where workspace_id = 'unanswered' and delivery_state = 'PENDING'",
                    Long.class) == 0);
            // Each event first arrived in id order (a batch posted again after a timeout repeats ids).
            List<Long> seen = new ArrayList<>(new LinkedHashSet<>(held.bodies().stream()
                    .flatMap(body -> ids(body).stream()).toList()));
            assertThat(seen).isSortedAccordingTo(Long::compare).containsExactlyElementsOf(jdbc.queryForList(
                    "select id from events where workspace_id = 'unanswered' order by id", Long.class));
        } finally {
            held.release();
            receiver.resetAll();
        }
    }

    private static List<Long> receivedIds(WireMockServer receiver) {
        List<ServeEvent> requests = new ArrayList<>(receiver.getAllServeEvents());
        requests.sort((a, b) -> a.getRequest().getLoggedDate().compareTo(b.getRequest().getLoggedDate()));
        return requests.stream().filter(r -> r.getRequest().getUrl().equals("/mandrill"))
                .flatMap(r -> ids(r.getRequest().getBodyAsString()).stream()).toList();
    }

    static List<Long> ids(String body) {
        return MandrillPosts.eventList(body).stream()
                .map(e -> Long.parseLong((String) e.get("_relay_event_id"))).toList();
    }
}
