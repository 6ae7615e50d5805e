package com.mailrelay.provider;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.provider.postmark.PostmarkProbe;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The postmark provider type against a Postmark stub that checks the real request — URL, the
 * server token, JSON with the fields mapped from the accepted MIME and the message stream of the
 * email type — and answers as Postmark documents it (postmarkapp.com/developer/api/email-api,
 * postmarkapp.com/developer/api/overview: "HTTP response codes", "API error codes").
 */
class PostmarkProviderTest extends RelayTestSupport {

    private static final String SEND = "/postmark/email";

    private final WireMockServer postmark = Upstreams.providerApis();

    @Autowired
    PostmarkProbe probe;

    private static String ok(String to, String messageId) {
        return "{\"To\": \"" + to + "\", \"SubmittedAt\": \"2026-12-01T15:00:00.0000000-05:00\", \"MessageID\": \""
                + messageId + "\", \"ErrorCode\": 0, \"Message\": \"OK\"}";
    }

    @Test
    void mapsTheMessageToPostmarksJsonInTheTransactionalStreamAndKeepsItsMessageId() {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String to = "to-" + tag + "@customer.test";
        String cc = "cc-" + tag + "@customer.test";
        String bcc = "bcc-" + tag + "@audit.test";
        String messageId = UUID.randomUUID().toString();
        byte[] pdf = ("%PDF-1.4 " + tag).getBytes(StandardCharsets.US_ASCII);
        postmark.stubFor(WireMock.post(SEND).atPriority(1).withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody(ok(to, messageId))));

        String id = submit("via-postmark", Map.ofEntries(
                Map.entry("from", "Acme Billing <billing@pm.relay.test>"),
                Map.entry("to", List.of("Alice Example <" + to + ">")), Map.entry("cc", List.of(cc)),
                Map.entry("bcc", List.of(bcc)), Map.entry("reply_to", "support@pm.relay.test"),
                Map.entry("subject", "Invoice " + tag), Map.entry("text", "Text of " + tag),
                Map.entry("html", "<p>HTML of " + tag + "</p>"), Map.entry("headers", Map.of("X-Campaign", "autumn")),
                Map.entry("attachments", List.of(Map.of("filename", "invoice.pdf", "content_type", "application/pdf",
                        "content", Base64.getEncoder().encodeToString(pdf)))),
                Map.entry("type", "transactional"), Map.entry("tags", List.of("billing", "monthly")),
                Map.entry("metadata", Map.of("order", 42))));
        awaitStatus(id, "SENT");

        LoggedRequest request = only(to);
        assertThat(request.getUrl()).isEqualTo(SEND);
        assertThat(request.getHeader("X-Postmark-Server-Token")).isEqualTo("postmark-server-token");
        assertThat(request.getHeader("Content-Type")).startsWith("application/json");
        assertThat(request.getHeader("Accept")).isEqualTo("application/json");
        assertThat(request.containsHeader("Authorization")).isFalse();
        Map<String, Object> json = read(request.getBodyAsString());
        assertThat(json).containsEntry("From", "Acme Billing <billing@pm.relay.test>")
                .containsEntry("To", "Alice Example <" + to + ">").containsEntry("Cc", cc).containsEntry("Bcc", bcc)
                .containsEntry("ReplyTo", "support@pm.relay.test").containsEntry("Subject", "Invoice " + tag)
                .containsEntry("TextBody", "Text of " + tag).containsEntry("HtmlBody", "<p>HTML of " + tag + "</p>")
                .containsEntry("Tag", "billing").containsEntry("Metadata", Map.of("order", "42"))
                .containsEntry("MessageStream", "outbound");
        @SuppressWarnings("unchecked")
        List<Map<String, String>> headers = (List<Map<String, String>>) json.get("Headers");
        assertThat(headers).contains(Map.of("Name", "X-Campaign", "Value", "autumn"));
        assertThat(headers).anySatisfy(header -> {
            assertThat(header.get("Name")).isEqualTo("Message-ID");
            assertThat(header.get("Value")).isEqualTo("<" + id + "@pm.relay.test>");
        });
        assertThat(headers).extracting(header -> header.get("Name").toLowerCase())
                .doesNotContain("from", "to", "cc", "subject", "date", "mime-version", "content-type");
        assertThat(json.get("Attachments")).isEqualTo(List.of(Map.of("Name", "invoice.pdf",
                "Content", Base64.getEncoder().encodeToString(pdf), "ContentType", "application/pdf")));

        Map<String, Object> row = row(id);
        assertThat(row.get("provider_id")).isEqualTo("postmark");
        assertThat(row.get("provider_message_id")).isEqualTo(messageId);
        assertThat(eventTypes(id)).containsExactly("send", "send", "send");
    }

    @Test
    void marketingMailGoesToTheBroadcastStream() {
        String to = "reader-" + UUID.randomUUID() + "@customer.test";
        postmark.stubFor(WireMock.post(SEND).atPriority(1).withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody(ok(to, "b0a1-" + to.hashCode()))));

        String id = submit("via-postmark", Map.of("from", "news@pm.relay.test", "to", List.of(to),
                "subject", "News", "html", "<p>News</p>", "type", "marketing"));
        awaitStatus(id, "SENT");

        Map<String, Object> json = read(only(to).getBodyAsString());
        assertThat(json).containsEntry("MessageStream", "newsletters")
                .doesNotContainKeys("TextBody", "Cc", "Bcc", "Tag", "Metadata", "Attachments");
        // Marketing mail is tracked and gets unsubscribe headers at accept: Postmark sends them as they are.
        assertThat((String) json.get("HtmlBody")).startsWith("<p>News</p><img src=\"https://relay.test/t/o/");
        assertThat(json.get("Headers")).asList()
                .contains(Map.of("Name", "List-Unsubscribe-Post", "Value", "List-Unsubscribe=One-Click"));
        assertThat(row(id).get("provider_message_id")).isEqualTo("b0a1-" + to.hashCode());
    }

    @Test
    void theProbeReadsTheServerWithTheTokenAndSendsNothing() {
        postmark.stubFor(WireMock.get("/postmark/server").atPriority(5)
                .withHeader("X-Postmark-Server-Token", WireMock.equalTo("postmark-server-token"))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"ID\": 1, \"Name\": \"Relay Test\", \"Color\": \"red\"}")));
        postmark.stubFor(WireMock.get("/postmark/server").atPriority(6)
                .willReturn(aResponse().withStatus(401).withHeader("Content-Type", "application/json")
                        .withBody("{\"ErrorCode\": 10, \"Message\": \"The Server Token you provided in the "
                                + "X-Postmark-Server-Token request header was invalid.\"}")));
        int sends = postmark.findAll(postRequestedFor(urlEqualTo(SEND))).size();
        String base = "http://127.0.0.1:" + postmark.port() + "/postmark";

        assertThat(probe.probe(Map.of("providerId", "postmark", "serverToken", "postmark-server-token",
                "baseUrl", base))).isEqualTo("server Relay Test (ID 1) at " + base);
        assertThatThrownBy(() -> probe.probe(Map.of("providerId", "postmark", "serverToken", "wrong",
                "baseUrl", base))).isInstanceOf(ProviderConfigurationException.class)
                .hasMessageContaining("ErrorCode 10");
        assertThat(postmark.findAll(postRequestedFor(urlEqualTo(SEND)))).hasSize(sends);
    }

    @Test
    void anInactiveRecipientIsPermanentForThatRecipientAndSuppressed() {
        String to = "inactive-" + UUID.randomUUID() + "@customer.test";
        postmark.stubFor(WireMock.post(SEND).atPriority(1).withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(422).withHeader("Content-Type", "application/json")
                        .withBody("{\"ErrorCode\": 406, \"Message\": \"You tried to send to recipient(s) that have "
                                + "been marked as inactive. Found inactive addresses: " + to + ". Inactive recipients "
                                + "are ones that have generated a hard bounce, a spam complaint, or a manual "
                                + "suppression.\"}")));

        String id = submit("via-postmark", message("app@pm.relay.test", to, "to an inactive recipient"));
        awaitStatus(id, "FAILED");

        Map<String, Object> row = row(id);
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat((String) row.get("last_error")).startsWith("HTTP 422 ErrorCode 406: You tried to send");
        assertThat(eventTypes(id)).containsExactly("hard_bounce");
        assertThat(jdbc.queryForObject("select status from recipients where email = ?", String.class, to))
                .isEqualTo("BOUNCED");
        assertThat(postmark.findAll(postRequestedFor(urlEqualTo(SEND)).withRequestBody(containing(to)))).hasSize(1);
    }

    @Test
    void anInvalidRequestIsPermanentAndSuppressesNobodyItDoesNotName() {
        String to = "invalid-" + UUID.randomUUID() + "@customer.test";
        postmark.stubFor(WireMock.post(SEND).atPriority(1).withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(422).withHeader("Content-Type", "application/json")
                        .withBody("{\"ErrorCode\": 300, \"Message\": \"Invalid 'From' address: 'app@pm.relay.test'.\"}")));

        String id = submit("via-postmark", message("app@pm.relay.test", to, "invalid"));
        awaitStatus(id, "FAILED");

        assertThat((String) row(id).get("last_error")).isEqualTo("HTTP 422 ErrorCode 300: Invalid 'From' address: "
                + "'app@pm.relay.test'.");
        assertThat(eventTypes(id)).containsExactly("hard_bounce");
        assertThat(jdbc.queryForList("select status from recipients where email = ?", String.class, to))
                .doesNotContain("BOUNCED");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theTemplateIsListedWithItsSecretMarked() {
        List<Map<String, Object>> templates = (List<Map<String, Object>>) read(get("admin-key",
                "/api/v1/routes/templates").body()).get("templates");
        Map<String, Object> template = templates.stream().filter(t -> "postmark".equals(t.get("id"))).findFirst()
                .orElseThrow();
        assertThat(template).containsEntry("source", "jar").containsEntry("file", "postmark.kamelet.yaml");
        List<Map<String, Object>> parameters = (List<Map<String, Object>>) template.get("parameters");
        assertThat(parameters).filteredOn(p -> "serverToken".equals(p.get("name"))).singleElement()
                .satisfies(p -> assertThat(p).containsEntry("secret", true).containsEntry("required", true)
                        .doesNotContainKey("default"));
        assertThat(parameters).filteredOn(p -> "transactionalStream".equals(p.get("name"))).singleElement()
                .satisfies(p -> assertThat(p).containsEntry("default", "outbound"));
    }

    private LoggedRequest only(String to) {
        List<LoggedRequest> requests = postmark.findAll(postRequestedFor(urlEqualTo(SEND))
                .withRequestBody(containing(to)));
        assertThat(requests).hasSize(1);
        return requests.get(0);
    }
}
