package com.mailrelay.recipients;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hard bounce suppresses its recipient; later messages leave it out (reject event) while their
 * other recipients still get the mail; the API shows and lifts the suppression.
 */
class SuppressionTest extends RelayTestSupport {

    @Test
    void aHardBounceSuppressesTheRecipientForLaterMessages() {
        String bouncing = "reject-" + System.nanoTime() + "@customer.test";
        String fine = "fine-" + System.nanoTime() + "@customer.test";

        // workspace strict → the scripted upstream, which answers 550 to reject*@ addresses.
        String first = submit("strict", message("app@strict.test", bouncing, "first"));
        awaitStatus(first, "FAILED");
        var recipient = read(recipients("GET", bouncing, null).body());
        assertThat(recipient).containsEntry("status", "BOUNCED").containsEntry("bounce_count", 1);

        // Mixed: the suppressed recipient is dropped, the other one still gets the message.
        String second = submit("strict", Map.of("from", "app@strict.test", "to", List.of(bouncing, fine),
                "subject", "second", "text", "x"));
        awaitStatus(second, "SENT");
        assertThat(eventTypes(second)).containsExactlyInAnyOrder("reject", "send");
        assertThat(row(second).get("recipients").toString()).contains(fine).doesNotContain(bouncing);
        assertThat(Upstreams.scripted().deliveredTo(fine)).hasSize(1);
        assertThat(Upstreams.scripted().tries(bouncing)).as("never offered to the upstream again").isEqualTo(1);

        // Only suppressed recipients: the message is rejected at once, never queued.
        HttpResponse<String> response = post(key("strict"), message("app@strict.test", bouncing, "third"), Map.of());
        assertThat(response.statusCode()).isEqualTo(202);
        assertThat(read(response.body())).containsEntry("status", "rejected");
        String third = (String) read(response.body()).get("id");
        assertThat(status(third)).isEqualTo("REJECTED");
        assertThat(eventTypes(third)).containsExactly("reject");

        // The API lists it, and setting it ACTIVE lifts the suppression.
        assertThat(recipients("GET", null, null).body()).contains(bouncing);
        assertThat(recipients("PUT", bouncing, "{\"status\": \"unknown\"}").statusCode()).isEqualTo(400);
        assertThat(read(recipients("PUT", bouncing, "{\"status\": \"ACTIVE\", \"reason\": \"fixed\"}").body()))
                .containsEntry("status", "ACTIVE");
        String fourth = submit("strict", message("app@strict.test", bouncing, "fourth"));
        assertThat(status(fourth)).isIn("QUEUED", "SENDING", "FAILED");
        assertThat(recipients("GET", "nobody@customer.test", null).statusCode()).isEqualTo(404);
    }

    private HttpResponse<String> recipients(String method, String email, String body) {
        String path = "/api/v1/recipients" + (email == null ? "" : "/" + email);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + key("strict"));
        if (body != null) {
            request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        }
        return send(request.build());
    }
}
