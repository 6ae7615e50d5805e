package com.mailrelay.provider;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.provider.sendgrid.SendGridProbe;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.Address;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.apache.camel.CamelContext;
import org.apache.camel.Endpoint;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The "sendgrid" provider type end to end: messages submitted over REST and SMTP by workspace
 * via-sendgrid reach the SendGrid stub (the shared provider WireMock, under /sendgrid-*) as the
 * Mail Send request SendGrid documents, and SendGrid's documented answers end them as classified:
 * 202 + X-Message-Id SENT with that id, 400 invalid address FAILED with the address suppressed,
 * 401 a configuration fault (breaker opened, no attempt used, failover), 429 DEFERRED no sooner
 * than Retry-After, 500 DEFERRED and tried again. The chain (test-routes/sendgrid.camel.yaml) picks
 * the instance by the recipients' domain.
 */
class SendGridProviderTest extends RelayTestSupport {

    private static final String WORKSPACE = "via-sendgrid";
    private static final String SEND = "/sendgrid-main/v3/mail/send";

    @Autowired
    CamelContext camel;

    @Autowired
    ProviderBreakers breakers;

    @Autowired
    SendGridProbe probe;

    private static WireMockServer stub() {
        return Upstreams.providerApis();
    }

    /** 202 Accepted, empty body, X-Message-Id: SendGrid's answer to a queued message. */
    private static void accept(String path, String subject, String messageId) {
        stub().stubFor(WireMock.post(urlEqualTo(path)).withRequestBody(matchingJsonPath("$.subject", equalTo(subject)))
                .willReturn(aResponse().withStatus(202).withHeader("X-Message-Id", messageId)));
    }

    private static List<LoggedRequest> sent(String path, String subject) {
        return stub().findAll(postRequestedFor(urlEqualTo(path))
                .withRequestBody(matchingJsonPath("$.subject", equalTo(subject))));
    }

    private static JsonNode json(LoggedRequest request) {
        try {
            return JSON.readTree(request.getBodyAsString());
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + request.getBodyAsString(), e);
        }
    }

    private static List<String> emails(JsonNode array) {
        List<String> emails = new ArrayList<>();
        array.forEach(node -> emails.add(node.path("email").asText()));
        return emails;
    }

    @Test
    void aRestMessageBecomesSendGridsJsonAndEndsSentWithItsMessageId() {
        String subject = "Invoice " + UUID.randomUUID();
        accept(SEND, subject, "sg-rest-14c5d75ce93");
        byte[] pdf = "%PDF-1.4 not really a pdf \u0000\u00ff".getBytes(StandardCharsets.ISO_8859_1);
        String id = submit(WORKSPACE, Map.of(
                "from", "Shop Ünïcode <billing@shop-sendgrid.test>",
                "to", List.of("Alice Ämmer <alice@example.org>", "bob@example.org"),
                "cc", List.of("Carol <carol@example.org>"),
                "bcc", List.of("dave@example.org"),
                "reply_to", "Support <support@shop-sendgrid.test>",
                "subject", subject,
                "text", "plain text body",
                "html", "<p>HTML body</p>",
                "headers", Map.of("X-Campaign", "autumn", "List-Unsubscribe", "<mailto:unsub@shop-sendgrid.test>",
                        "X-MC-Tags", "billing, autumn", "X-MC-Metadata", "{\"order\": \"42\", \"n\": 7}"),
                "attachments", List.of(Map.of("filename", "invoice.pdf", "content_type", "application/pdf",
                        "content", Base64.getEncoder().encodeToString(pdf)))));
        awaitStatus(id, "SENT");

        Map<String, Object> row = row(id);
        assertThat(row).containsEntry("provider_id", "sendgrid-main")
                .containsEntry("provider_message_id", "sg-rest-14c5d75ce93");
        assertThat((String) row.get("last_error")).isEqualTo("202 accepted by SendGrid, X-Message-Id sg-rest-14c5d75ce93");
        List<LoggedRequest> requests = sent(SEND, subject);
        assertThat(requests).hasSize(1);
        LoggedRequest request = requests.get(0);
        assertThat(request.getHeader("Authorization")).isEqualTo("Bearer SG.test-main.key");
        assertThat(request.getHeader("Content-Type")).startsWith("application/json");
        // Only what the request needs: none of the relay's own headers.
        assertThat(request.getAllHeaderKeys()).noneMatch(name -> name.toLowerCase().startsWith("relay"))
                .noneMatch(name -> name.toLowerCase().startsWith("camel"));

        JsonNode body = json(request);
        assertThat(body.path("personalizations")).hasSize(1);
        JsonNode personalization = body.path("personalizations").get(0);
        assertThat(emails(personalization.path("to"))).containsExactly("alice@example.org", "bob@example.org");
        assertThat(personalization.path("to").get(0).path("name").asText()).isEqualTo("Alice Ämmer");
        assertThat(emails(personalization.path("cc"))).containsExactly("carol@example.org");
        assertThat(personalization.path("cc").get(0).path("name").asText()).isEqualTo("Carol");
        // Bcc: in the envelope, in no header; SendGrid delivers it without showing it.
        assertThat(emails(personalization.path("bcc"))).containsExactly("dave@example.org");
        assertThat(body.path("from").path("email").asText()).isEqualTo("billing@shop-sendgrid.test");
        assertThat(body.path("from").path("name").asText()).isEqualTo("Shop Ünïcode");
        assertThat(body.path("reply_to").path("email").asText()).isEqualTo("support@shop-sendgrid.test");
        assertThat(body.path("subject").asText()).isEqualTo(subject);
        assertThat(body.path("content")).hasSize(2);
        assertThat(body.path("content").get(0).path("type").asText()).isEqualTo("text/plain");
        assertThat(body.path("content").get(0).path("value").asText()).isEqualTo("plain text body");
        assertThat(body.path("content").get(1).path("type").asText()).isEqualTo("text/html");
        assertThat(body.path("content").get(1).path("value").asText()).isEqualTo("<p>HTML body</p>");
        JsonNode attachment = body.path("attachments").get(0);
        assertThat(body.path("attachments")).hasSize(1);
        assertThat(Base64.getDecoder().decode(attachment.path("content").asText())).isEqualTo(pdf);
        assertThat(attachment.path("type").asText()).isEqualTo("application/pdf");
        assertThat(attachment.path("filename").asText()).isEqualTo("invoice.pdf");
        assertThat(attachment.path("disposition").asText()).isEqualTo("attachment");
        JsonNode headers = body.path("headers");
        assertThat(headers.path("X-Campaign").asText()).isEqualTo("autumn");
        assertThat(headers.path("List-Unsubscribe").asText()).isEqualTo("<mailto:unsub@shop-sendgrid.test>");
        assertThat(headers.path("Message-ID").asText()).isEqualTo("<" + id + "@shop-sendgrid.test>");
        // SendGrid's reserved headers and what it builds from the fields are not sent as headers.
        List<String> names = new ArrayList<>();
        headers.fieldNames().forEachRemaining(name -> names.add(name.toLowerCase()));
        assertThat(names).doesNotContain("to", "from", "cc", "bcc", "subject", "reply-to", "content-type",
                "content-transfer-encoding", "mime-version", "dkim-signature", "x-mc-tags", "x-mc-metadata");
        assertThat(body.path("categories")).extracting(JsonNode::asText).containsExactly("billing", "autumn");
        JsonNode customArgs = body.path("custom_args");
        assertThat(customArgs.path("relay_message_id").asText()).isEqualTo(id);
        assertThat(customArgs.path("relay_workspace").asText()).isEqualTo(WORKSPACE);
        assertThat(customArgs.path("order").asText()).isEqualTo("42");
        assertThat(customArgs.path("n").asText()).isEqualTo("7");
    }

    @Test
    void anSmtpMessageWithAnAttachmentAnInlineImageCcAndBccIsMappedFromItsMime() throws Exception {
        String marker = UUID.randomUUID().toString();
        String subject = "Grüße " + marker;
        accept(SEND, subject, "sg-smtp-" + marker);
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 1, 2, 3, (byte) 0xfe};
        byte[] csv = "name;amount\r\nJosé;3\r\n".getBytes(StandardCharsets.UTF_8);
        Charset latin1 = StandardCharsets.ISO_8859_1;
        String raw = "From: =?UTF-8?Q?Jos=C3=A9_Sender?= <jose@smtp-sendgrid.test>\r\n"
                + "To: =?ISO-8859-1?Q?Ren=E9e?= <renee@example.org>\r\n"
                + "Cc: Cleo <cleo@example.org>\r\n"
                + "Subject: =?UTF-8?B?" + Base64.getEncoder().encodeToString(subject.getBytes(StandardCharsets.UTF_8))
                + "?=\r\n"
                + "Message-ID: <" + marker + "@smtp-sendgrid.test>\r\n"
                + "X-Order: 77\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                + "\r\n"
                + "--outer\r\n"
                + "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
                + "\r\n"
                + "--alt\r\n"
                + "Content-Type: text/plain; charset=ISO-8859-1\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n"
                + "\r\n"
                + "Gr=FC=DFe, Ren=E9e\r\n"
                + "--alt\r\n"
                + "Content-Type: multipart/related; boundary=\"rel\"\r\n"
                + "\r\n"
                + "--rel\r\n"
                + "Content-Type: text/html; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n"
                + "\r\n"
                + "<p>Gr=C3=BC=C3=9Fe <img src=3D\"cid:logo@smtp-sendgrid.test\"></p>\r\n"
                + "--rel\r\n"
                + "Content-Type: image/png\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "Content-ID: <logo@smtp-sendgrid.test>\r\n"
                + "Content-Disposition: inline\r\n"
                + "\r\n"
                + Base64.getMimeEncoder().encodeToString(png) + "\r\n"
                + "--rel--\r\n"
                + "--alt--\r\n"
                + "--outer\r\n"
                + "Content-Type: text/csv; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; filename*=UTF-8''Abrechnung%20M%C3%A4rz.csv\r\n"
                + "\r\n"
                + Base64.getMimeEncoder().encodeToString(csv) + "\r\n"
                + "--outer--\r\n";

        Session session = Session.getInstance(smtpClientProperties());
        MimeMessage message = new MimeMessage(session, new ByteArrayInputStream(raw.getBytes(latin1)));
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("127.0.0.1", smtp.port(), WORKSPACE, "via-sendgrid-password");
            transport.sendMessage(message, new Address[] {new InternetAddress("renee@example.org"),
                    new InternetAddress("cleo@example.org"), new InternetAddress("hidden@example.org")});
        }
        String id = jdbc.queryForObject("select id from messages where workspace_id = ? and subject = ?",
                String.class, WORKSPACE, subject);
        awaitStatus(id, "SENT");
        assertThat(row(id)).containsEntry("provider_message_id", "sg-smtp-" + marker);

        List<LoggedRequest> requests = sent(SEND, subject);
        assertThat(requests).hasSize(1);
        JsonNode body = json(requests.get(0));
        JsonNode personalization = body.path("personalizations").get(0);
        assertThat(emails(personalization.path("to"))).containsExactly("renee@example.org");
        assertThat(personalization.path("to").get(0).path("name").asText()).isEqualTo("Renée");
        assertThat(emails(personalization.path("cc"))).containsExactly("cleo@example.org");
        assertThat(emails(personalization.path("bcc"))).containsExactly("hidden@example.org");
        assertThat(body.path("from").path("name").asText()).isEqualTo("José Sender");
        assertThat(body.path("subject").asText()).isEqualTo(subject);
        assertThat(body.path("content").get(0).path("type").asText()).isEqualTo("text/plain");
        assertThat(body.path("content").get(0).path("value").asText()).isEqualTo("Grüße, Renée");
        assertThat(body.path("content").get(1).path("type").asText()).isEqualTo("text/html");
        assertThat(body.path("content").get(1).path("value").asText())
                .isEqualTo("<p>Grüße <img src=\"cid:logo@smtp-sendgrid.test\"></p>");
        JsonNode attachments = body.path("attachments");
        assertThat(attachments).hasSize(2);
        JsonNode image = attachments.get(0);
        assertThat(Base64.getDecoder().decode(image.path("content").asText())).isEqualTo(png);
        assertThat(image.path("type").asText()).isEqualTo("image/png");
        assertThat(image.path("disposition").asText()).isEqualTo("inline");
        assertThat(image.path("content_id").asText()).isEqualTo("logo@smtp-sendgrid.test");
        JsonNode file = attachments.get(1);
        assertThat(Base64.getDecoder().decode(file.path("content").asText())).isEqualTo(csv);
        assertThat(file.path("type").asText()).isEqualTo("text/csv");
        assertThat(file.path("filename").asText()).isEqualTo("Abrechnung März.csv");
        assertThat(file.path("disposition").asText()).isEqualTo("attachment");
        assertThat(file.has("content_id")).isFalse();
        assertThat(body.path("headers").path("X-Order").asText()).isEqualTo("77");
        assertThat(body.path("headers").has("Received")).as("SendGrid reserves Received").isFalse();
        assertThat(body.path("custom_args").path("relay_message_id").asText()).isEqualTo(id);
    }

    @Test
    void anAddressSendGridRefusesFailsTheMessageAndIsSuppressed() {
        String subject = "Refused " + UUID.randomUUID();
        String refused = "broken-" + UUID.randomUUID().toString().substring(0, 8) + "@invalid-sendgrid.test";
        stub().stubFor(WireMock.post(urlEqualTo(SEND)).withRequestBody(matchingJsonPath("$.subject", equalTo(subject)))
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"errors\":[{\"message\":\"Does not contain a valid address.\","
                                + "\"field\":\"personalizations.0.to.1.email\","
                                + "\"help\":\"http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html"
                                + "#message.personalizations.to\"}]}")));
        String fine = "fine-" + UUID.randomUUID().toString().substring(0, 8) + "@example.org";
        String id = submit(WORKSPACE, Map.of("from", "app@shop-sendgrid.test", "to", List.of(fine, refused),
                "subject", subject, "text", "x"));
        awaitStatus(id, "FAILED");

        assertThat((String) row(id).get("last_error")).contains("HTTP 400")
                .contains("personalizations.0.to.1.email: Does not contain a valid address.");
        assertThat(eventTypes(id)).contains("hard_bounce").doesNotContain("send");
        assertThat(sent(SEND, subject)).as("permanent: not tried again").hasSize(1);
        assertThat(read(recipient(refused).body())).containsEntry("status", "BOUNCED");
        assertThat(recipient(fine).statusCode()).as("the other recipient is not suppressed").isEqualTo(404);
    }

    @Test
    void aRevokedKeyOpensTheBreakerAndTheMessageFailsOverWithoutUsingAnAttempt() {
        String subject = "Revoked " + UUID.randomUUID();
        stub().stubFor(WireMock.post(urlEqualTo("/sendgrid-revoked/v3/mail/send"))
                .willReturn(aResponse().withStatus(401).withHeader("Content-Type", "application/json")
                        .withBody("{\"errors\":[{\"field\":null,\"message\":\"The provided authorization grant is "
                                + "invalid, expired, or revoked\",\"help\":null}]}")));
        accept("/sendgrid-spare/v3/mail/send", subject, "sg-spare-1");
        String id = submit(WORKSPACE, message("app@shop-sendgrid.test", "someone@revoked.test", subject));
        awaitStatus(id, "SENT");

        assertThat(row(id)).containsEntry("provider_id", "sendgrid-spare")
                .containsEntry("provider_message_id", "sg-spare-1").containsEntry("attempts", 1);
        List<LoggedRequest> revoked = sent("/sendgrid-revoked/v3/mail/send", subject);
        assertThat(revoked).hasSize(1);
        assertThat(revoked.get(0).getHeader("Authorization")).isEqualTo("Bearer SG.test-revoked.key");
        assertThat(breakers.breaker("sendgrid-revoked").orElseThrow().getCircuitBreakerState()).isEqualTo("OPEN");
    }

    @Test
    void aRefusedKeyAloneDefersTheMessageWithoutUsingAnAttempt() {
        String subject = "Locked " + UUID.randomUUID();
        stub().stubFor(WireMock.post(urlEqualTo("/sendgrid-locked/v3/mail/send"))
                .withRequestBody(matchingJsonPath("$.subject", equalTo(subject)))
                .willReturn(aResponse().withStatus(401).withHeader("Content-Type", "application/json")
                        .withBody("{\"errors\":[{\"field\":null,\"message\":\"Maximum credits exceeded\","
                                + "\"help\":null}]}")));
        String id = submit(WORKSPACE, message("app@shop-sendgrid.test", "someone@locked.test", subject));

        // The outcome of the 401 itself (the message is retried later, against the then open breaker).
        AtomicReference<Map<String, Object>> deferred = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(10)).until(() -> {
            Map<String, Object> row = row(id);
            deferred.set(row);
            return String.valueOf(row.get("last_error")).contains("HTTP 401");
        });
        assertThat(deferred.get()).containsEntry("status", "DEFERRED").containsEntry("attempts", 0);
        assertThat((String) deferred.get().get("last_error")).contains("Maximum credits exceeded");
        assertThat(breakers.breaker("sendgrid-locked").orElseThrow().getCircuitBreakerState()).isIn("OPEN",
                "HALF_OPEN");
    }

    @Test
    void tooManyRequestsDefersNoSoonerThanRetryAfter() {
        String subject = "Busy " + UUID.randomUUID();
        stub().stubFor(WireMock.post(urlEqualTo(SEND)).withRequestBody(matchingJsonPath("$.subject", equalTo(subject)))
                .willReturn(aResponse().withStatus(429).withHeader("Content-Type", "application/json")
                        .withHeader("Retry-After", "120")
                        .withHeader("X-RateLimit-Limit", "600").withHeader("X-RateLimit-Remaining", "0")
                        .withHeader("X-RateLimit-Reset", String.valueOf(Instant.now().plusSeconds(120).getEpochSecond()))
                        .withBody("{\"errors\":[{\"field\":null,\"message\":\"too many requests\"}]}")));
        Instant before = Instant.now();
        String id = submit(WORKSPACE, message("app@shop-sendgrid.test", "busy@example.org", subject));
        awaitStatus(id, "DEFERRED");

        Map<String, Object> row = row(id);
        assertThat(row).containsEntry("attempts", 1);
        assertThat((String) row.get("last_error")).contains("HTTP 429").contains("too many requests");
        assertThat(instant(row.get("next_attempt_at"))).isAfter(before.plusSeconds(119));
        assertThat(sent(SEND, subject)).hasSize(1);
    }

    @Test
    void aServerErrorDefersAndTheNextAttemptIsSent() {
        String subject = "Flaky " + UUID.randomUUID();
        String scenario = "sendgrid-" + subject;
        stub().stubFor(WireMock.post(urlEqualTo(SEND)).withRequestBody(matchingJsonPath("$.subject", equalTo(subject)))
                .inScenario(scenario).whenScenarioStateIs(Scenario.STARTED).willSetStateTo("recovered")
                .willReturn(aResponse().withStatus(500).withHeader("Content-Type", "application/json")
                        .withBody("{\"errors\":[{\"field\":null,\"message\":\"internal error\"}]}")));
        stub().stubFor(WireMock.post(urlEqualTo(SEND)).withRequestBody(matchingJsonPath("$.subject", equalTo(subject)))
                .inScenario(scenario).whenScenarioStateIs("recovered")
                .willReturn(aResponse().withStatus(202).withHeader("X-Message-Id", "sg-after-500")));
        String id = submit(WORKSPACE, message("app@shop-sendgrid.test", "flaky@example.org", subject));
        awaitStatus(id, "SENT");

        assertThat(eventTypes(id)).containsSubsequence("deferral", "send");
        assertThat(row(id)).containsEntry("provider_message_id", "sg-after-500").containsEntry("attempts", 2);
        assertThat(sent(SEND, subject)).hasSize(2);
    }

    @Test
    void theProbeAsksForTheKeysScopesAndSendsNothing() {
        stub().stubFor(WireMock.get(urlEqualTo("/sendgrid-probe/v3/scopes")).withHeader("Authorization",
                equalTo("Bearer SG.probe.key")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"scopes\":[\"alerts.read\",\"mail.send\",\"stats.read\"]}")));
        stub().stubFor(WireMock.get(urlEqualTo("/sendgrid-probe/v3/scopes")).withHeader("Authorization",
                equalTo("Bearer SG.readonly.key")).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody("{\"scopes\":[\"stats.read\"]}")));
        stub().stubFor(WireMock.get(urlEqualTo("/sendgrid-probe/v3/scopes")).withHeader("Authorization",
                equalTo("Bearer SG.wrong.key")).willReturn(aResponse().withStatus(401)
                .withHeader("Content-Type", "application/json")
                .withBody("{\"errors\":[{\"field\":null,\"message\":\"authorization required\"}]}")));
        String base = "http://127.0.0.1:" + stub().port() + "/sendgrid-probe";

        assertThat(probe.type()).isEqualTo("sendgrid");
        assertThat(probe.probe(Map.of("providerId", "p", "apiKey", "SG.probe.key", "baseUrl", base)))
                .contains("mail.send").contains("3 scopes").doesNotContain("SG.probe.key");
        assertThatThrownBy(() -> probe.probe(Map.of("providerId", "p", "apiKey", "SG.readonly.key", "baseUrl", base)))
                .isInstanceOf(ProviderConfigurationException.class).hasMessageContaining("mail.send");
        assertThatThrownBy(() -> probe.probe(Map.of("providerId", "p", "apiKey", "SG.wrong.key", "baseUrl", base)))
                .isInstanceOf(ProviderConfigurationException.class).hasMessageContaining("401");
        assertThat(stub().findAll(postRequestedFor(urlPathMatching("/sendgrid-probe/.*")))).isEmpty();
    }

    @Test
    void theRegionChoosesSendGridsHostUnlessABaseUrlIsGiven() {
        assertThat(uris()).contains("https://api.eu.sendgrid.com/v3/mail/send",
                "http://127.0.0.1:" + stub().port() + SEND);
        // The template is listed with its key marked secret.
        var templates = get("admin-key", "/api/v1/routes/templates");
        assertThat(templates.statusCode()).isEqualTo(200);
        JsonNode sendgrid = null;
        try {
            for (JsonNode template : JSON.readTree(templates.body()).path("templates")) {
                if (template.path("id").asText().equals("sendgrid")) {
                    sendgrid = template;
                }
            }
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        assertThat(sendgrid).as(templates.body()).isNotNull();
        boolean secret = false;
        for (JsonNode parameter : sendgrid.path("parameters")) {
            if (parameter.path("name").asText().equals("apiKey")) {
                secret = parameter.path("secret").asBoolean() && parameter.path("required").asBoolean();
            }
        }
        assertThat(secret).isTrue();
    }

    private static Instant instant(Object column) {
        return column instanceof Timestamp timestamp ? timestamp.toInstant()
                : ((java.time.OffsetDateTime) column).toInstant();
    }

    /** The endpoints the routes use, without their options. */
    private List<String> uris() {
        return camel.getEndpoints().stream().map(Endpoint::getEndpointUri)
                .map(uri -> uri.replaceFirst("\\?.*$", "")).toList();
    }

    private java.net.http.HttpResponse<String> recipient(String email) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/recipients/" + email))
                .header("Authorization", "Bearer " + key(WORKSPACE)).GET().build());
    }
}
