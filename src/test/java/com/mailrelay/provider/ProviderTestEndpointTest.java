package com.mailrelay.provider;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * POST /api/v1/providers/{id}/test with a recipient: one message through the named provider's own
 * route, not its chain. chain-probe fails over from probe-first (fallback's GreenMail) to
 * probe-second (spare's); both are healthy, so a chain would have used probe-first.
 */
class ProviderTestEndpointTest extends RelayTestSupport {

    @Test
    void exactlyOneMessageReachesTheNamedProviderAndNoneTheOthersOfItsChain() {
        String to = "probe-target-" + System.nanoTime() + "@customer.test";
        HttpResponse<String> response = test("probe-second", "{\"to\": \"" + to + "\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Map<String, Object> body = read(response.body());
        assertThat(body).containsEntry("provider", "probe-second");
        assertThat(body.get("probe").toString()).contains("status=ok");
        @SuppressWarnings("unchecked")
        Map<String, Object> send = (Map<String, Object>) body.get("send");
        assertThat(send).containsEntry("outcome", "sent");
        assertThat((String) send.get("reply")).startsWith("250 accepted by 127.0.0.1:");
        String messageId = (String) send.get("message_id");

        GreenMail second = Upstreams.greenMail("spare");
        GreenMail first = Upstreams.greenMail("fallback");
        // The send was synchronous: the copy is there when the answer is.
        List<MimeMessage> copies = Upstreams.received(second, messageId);
        assertThat(copies).hasSize(1);
        assertThat(ProvidersApiTest.header(copies.get(0), "To")).contains(to);
        assertThat(ProvidersApiTest.header(copies.get(0), "X-Mail-Relay-Test")).isEqualTo("probe-second");
        // Nothing at the first provider of the chain, nor a second copy, a moment later either.
        await().pollDelay(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(Upstreams.received(first, messageId)).isEmpty();
            assertThat(Upstreams.received(second, messageId)).hasSize(1);
        });

        Map<String, Object> view = read(get(ProvidersApiTest.ADMIN, "/api/v1/providers/probe-second").body());
        assertThat(view.get("last_success").toString()).contains("250 accepted by");
    }

    @Test
    void aFailedSendIsAnsweredWithItsClassifiedError() {
        String to = "probe-down-" + System.nanoTime() + "@customer.test";
        HttpResponse<String> response = test("probe-down", "{\"to\": \"" + to + "\"}");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(502);
        @SuppressWarnings("unchecked")
        Map<String, Object> send = (Map<String, Object>) read(response.body()).get("send");
        assertThat(send).containsEntry("outcome", "failed").containsEntry("failure", "transient")
                .containsKey("message_id");
        Map<String, Object> view = read(get(ProvidersApiTest.ADMIN, "/api/v1/providers/probe-down").body());
        assertThat(view.get("last_error")).isNotNull();
    }

    @Test
    void anInvalidRecipientIsRefusedAndNothingIsSent() {
        HttpResponse<String> response = test("probe-second", "{\"to\": \"not an address\"}");
        assertThat(response.statusCode()).isEqualTo(400);
        assertThat(response.body()).contains("\"field\":\"to\"");
        assertThat(test("probe-second", "[1, 2]").statusCode()).isEqualTo(400);
    }

    private HttpResponse<String> test(String provider, String json) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/providers/" + provider
                        + "/test"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + ProvidersApiTest.ADMIN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build());
    }
}
