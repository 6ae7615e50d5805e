package com.mailrelay.flow;

import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import com.icegreen.greenmail.util.GreenMail;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.Message.RecipientType;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** REST → queue → dispatch → smtp provider → a real SMTP server (GreenMail). */
class RestToUpstreamTest extends RelayTestSupport {

    @Test
    void messageArrivesUpstreamExactlyAsSubmitted() throws Exception {
        byte[] attachment = new byte[3000];
        for (int i = 0; i < attachment.length; i++) {
            attachment[i] = (byte) (i * 31);
        }
        String id = submit("acme", Map.of(
                "from", "Acme Billing <billing@acme.test>",
                "to", List.of("alice@customer.test"),
                "cc", List.of("bob@customer.test"),
                "bcc", List.of("audit@acme.test"),
                "reply_to", "support@acme.test",
                "subject", "Invoice 42 — ready",
                "text", "Your invoice is attached.",
                "html", "<p>Your invoice is <b>attached</b>.</p>",
                "attachments", List.of(Map.of("filename", "invoice-42.bin", "content_type", "application/octet-stream",
                        "content", Base64.getEncoder().encodeToString(attachment))),
                "tags", List.of("billing")));

        awaitStatus(id, "SENT");
        GreenMail upstream = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> Upstreams.received(upstream, id).size() == 3);

        // One copy per envelope recipient, Bcc included, and Bcc in no header.
        List<MimeMessage> copies = Upstreams.received(upstream, id);
        for (MimeMessage copy : copies) {
            assertThat(copy.getSubject()).isEqualTo("Invoice 42 — ready");
            assertThat(copy.getFrom()[0].toString()).isEqualTo("Acme Billing <billing@acme.test>");
            assertThat(copy.getRecipients(RecipientType.TO)[0].toString()).isEqualTo("alice@customer.test");
            assertThat(copy.getRecipients(RecipientType.CC)[0].toString()).isEqualTo("bob@customer.test");
            assertThat(copy.getHeader("Bcc")).isNull();
            assertThat(copy.getReplyTo()[0].toString()).isEqualTo("support@acme.test");
            Multipart mixed = (Multipart) copy.getContent();
            Multipart alternative = (Multipart) mixed.getBodyPart(0).getContent();
            assertThat(alternative.getBodyPart(0).getContent().toString().trim()).isEqualTo("Your invoice is attached.");
            assertThat(alternative.getBodyPart(1).getContent().toString().trim())
                    .isEqualTo("<p>Your invoice is <b>attached</b>.</p>");
            Part file = mixed.getBodyPart(1);
            assertThat(file.getFileName()).isEqualTo("invoice-42.bin");
            assertThat(Arrays.equals(file.getInputStream().readAllBytes(), attachment)).isTrue();
        }
        var auditor = upstream.getUserManager().getUserByEmail("audit@acme.test");
        assertThat(upstream.getManagers().getImapHostManager().getInbox(auditor).getMessageCount()).isEqualTo(1);

        Map<String, Object> row = row(id);
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(row.get("provider_id")).isEqualTo("acme-transactional");
        assertThat(row.get("sent_at")).isNotNull();
        assertThat(row.get("next_attempt_at")).isNull();
        assertThat(eventTypes(id)).containsExactly("send", "send", "send");

        var view = read(get(key("acme"), "/api/v1/messages/" + id).body());
        assertThat(view).containsEntry("status", "SENT").containsEntry("attempts", 1)
                .containsEntry("provider", "acme-transactional");
        assertThat((List<?>) view.get("events")).hasSize(3);

        String metrics = send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + port + "/actuator/prometheus"))
                .header("Authorization", "Bearer admin-key").build()).body();
        assertThat(metrics).containsPattern("relay_accepted_total\\{[^}]*workspace=\"acme\"")
                .containsPattern("relay_deliveries_total\\{[^}]*outcome=\"sent\"[^}]*provider=\"acme-transactional\"");
    }

    @Test
    void anotherWorkspaceCannotSeeTheMessage() {
        String id = submit("acme", message("app@acme.test", "carol@customer.test", "private"));
        assertThat(get(key("globex"), "/api/v1/messages/" + id).statusCode()).isEqualTo(404);
        assertThat(get(key("acme"), "/api/v1/messages/" + id).statusCode()).isEqualTo(200);
        assertThat(get(key("acme"), "/api/v1/messages/not-a-uuid").statusCode()).isEqualTo(404);
        awaitStatus(id, "SENT");
    }

    @Test
    void anAddressGivenTwiceInDifferentCaseGetsOneCopy() {
        String id = submit("acme", Map.of("from", "app@acme.test", "to", List.of("Casey@Customer.test"),
                "bcc", List.of("casey@customer.test"), "subject", "once, whatever the case", "text", "x"));
        // The first spelling, canonical: its local part as given, its domain lower-case.
        assertThat((String) row(id).get("recipients")).isEqualTo("[\"Casey@customer.test\"]");
        awaitStatus(id, "SENT");
        assertThat(eventTypes(id)).containsExactly("send");
    }
}
