package com.mailrelay.tracking;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Opens, clicks and unsubscribes reach the workspace's webhook as Mandrill events. */
class EngagementWebhookTest extends TrackingTestSupport {

    @Test
    void openClickAndUnsubArriveInMandrillFormat() {
        WireMockServer receiver = Upstreams.webhooks();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(200)));
        String to = "hooked-" + System.nanoTime() + "@customer.test";
        String id = rowsByRecipient(accept("hooked", Map.of("from", "app@hooked.test", "to", List.of(to),
                "type", "marketing", "subject", "Hooked offer", "tags", List.of("promo"),
                "html", "<p><a href=\"https://shop.test/hooked\">offer</a></p>"))).get(to);
        awaitStatus(id, "SENT");
        String html = part(stored(id), "text/html");
        assertThat(fetchPixel(all(PIXEL, html).get(0)).statusCode()).isEqualTo(200);
        assertThat(visit(all(CLICK, html).get(0), "Hooked/1").statusCode()).isEqualTo(302);
        String unsubscribe = header(stored(id), "List-Unsubscribe");
        assertThat(postForm(unsubscribe.substring(1, unsubscribe.length() - 1), "application/x-www-form-urlencoded",
                "List-Unsubscribe=One-Click").statusCode()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(30)).until(() -> delivered(receiver, id).stream()
                .map(e -> e.get("event")).toList().containsAll(List.of("open", "click", "unsub")));
        List<Map<String, Object>> events = delivered(receiver, id);
        assertThat(events).extracting(e -> e.get("event")).containsSubsequence("send", "open", "click", "unsub");

        Map<String, Object> click = events.stream().filter(e -> "click".equals(e.get("event"))).findFirst().orElseThrow();
        assertThat(click).containsEntry("_id", id).containsEntry("url", "https://shop.test/hooked")
                .containsEntry("ip", "127.0.0.1").containsEntry("user_agent", "Hooked/1").containsKey("ts");
        @SuppressWarnings("unchecked")
        Map<String, Object> msg = (Map<String, Object>) click.get("msg");
        assertThat(msg).containsEntry("_id", id).containsEntry("state", "sent").containsEntry("email", to)
                .containsEntry("subject", "Hooked offer").containsEntry("sender", "app@hooked.test")
                .containsEntry("tags", List.of("promo")).doesNotContainKey("diag");
        Map<String, Object> open = events.stream().filter(e -> "open".equals(e.get("event"))).findFirst().orElseThrow();
        assertThat(open).containsEntry("user_agent", "PixelFetcher/2").doesNotContainKey("url");
        Map<String, Object> unsub = events.stream().filter(e -> "unsub".equals(e.get("event"))).findFirst().orElseThrow();
        assertThat(((Map<?, ?>) unsub.get("msg")).get("email")).isEqualTo(to);
    }

    /** The events of this message among everything the receiver took (2xx answers). */
    private static List<Map<String, Object>> delivered(WireMockServer receiver, String id) {
        List<ServeEvent> requests = new ArrayList<>(receiver.getAllServeEvents());
        requests.sort((a, b) -> a.getRequest().getLoggedDate().compareTo(b.getRequest().getLoggedDate()));
        List<Map<String, Object>> events = new ArrayList<>();
        for (ServeEvent request : requests) {
            String body = request.getRequest().getBodyAsString();
            if (request.getResponse().getStatus() != 200 || !body.startsWith("mandrill_events=")) {
                continue;
            }
            MandrillPosts.eventList(body).stream().filter(e -> id.equals(e.get("_id"))).forEach(events::add);
        }
        return events;
    }
}
