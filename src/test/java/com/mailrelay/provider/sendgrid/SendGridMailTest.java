package com.mailrelay.provider.sendgrid;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The MIME → SendGrid JSON mapping on messages a mail client (not the relay's REST builder) writes:
 * nested multiparts, encoded-words, charsets other than UTF-8, recipients only in the envelope,
 * repeated and reserved headers.
 */
class SendGridMailTest {

    private static final String ID = "01a2b3c4-0000-7000-8000-000000000001";

    private static JsonNode map(String mime, List<String> recipients) {
        return SendGridMail.of(mime.getBytes(StandardCharsets.ISO_8859_1), recipients, "bounce@sender.test", ID, "ws")
                .body();
    }

    private static List<String> emails(JsonNode array) {
        List<String> emails = new ArrayList<>();
        array.forEach(node -> emails.add(node.path("email").asText()));
        return emails;
    }

    @Test
    void alternativeInsideMixedGivesTextThenHtmlAndTheRestAsAttachments() {
        String mime = "From: a@sender.test\r\nTo: b@example.org\r\nSubject: nested\r\nMIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=m\r\n\r\n"
                + "--m\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n"
                // HTML first in the MIME: SendGrid still gets text/plain first.
                + "--a\r\nContent-Type: text/html; charset=windows-1252\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                + "<p>=80 5 =96 caf=E9</p>\r\n"
                + "--a\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n"
                + "\u001b$BF|K\\8l\u001b(B\r\n"
                + "--a--\r\n"
                + "--m\r\nContent-Type: text/plain; charset=UTF-8; name=notes.txt\r\n"
                + "Content-Disposition: attachment; filename=\"=?UTF-8?Q?Notizen_=C3=BCber.txt?=\"\r\n\r\n"
                + "attached text\r\n"
                + "--m\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
                + "--m--\r\n";
        JsonNode body = map(mime, List.of("b@example.org"));

        assertThat(body.path("content")).hasSize(2);
        assertThat(body.path("content").get(0).path("type").asText()).isEqualTo("text/plain");
        assertThat(body.path("content").get(0).path("value").asText().strip()).isEqualTo("日本語");
        assertThat(body.path("content").get(1).path("type").asText()).isEqualTo("text/html");
        assertThat(body.path("content").get(1).path("value").asText()).isEqualTo("<p>€ 5 – café</p>");
        JsonNode attachments = body.path("attachments");
        assertThat(attachments).hasSize(2);
        assertThat(attachments.get(0).path("filename").asText()).isEqualTo("Notizen über.txt");
        assertThat(attachments.get(0).path("type").asText()).isEqualTo("text/plain");
        assertThat(new String(Base64.getDecoder().decode(attachments.get(0).path("content").asText()),
                StandardCharsets.UTF_8)).isEqualTo("attached text");
        assertThat(attachments.get(1).path("type").asText()).isEqualTo("message/rfc822");
        assertThat(attachments.get(1).path("filename").asText()).isEqualTo("part-2");
        assertThat(attachments.get(1).path("disposition").asText()).isEqualTo("attachment");
    }

    @Test
    void encodedWordsInSubjectAndNamesAreDecoded() {
        String mime = "From: =?ISO-8859-1?Q?Fran=E7ois_L=E9vesque?= <f@sender.test>\r\n"
                + "To: =?UTF-8?B?w4lsb2TDrWU=?= <e@example.org>, plain@example.org\r\n"
                + "Reply-To: one@sender.test, two@sender.test\r\n"
                + "Subject: =?UTF-8?Q?Caf=C3=A9?= =?UTF-8?Q?_cr=C3=A8me?=\r\n"
                + "Content-Type: text/plain; charset=us-ascii\r\n\r\nhi\r\n";
        JsonNode body = map(mime, List.of("E@example.org", "plain@example.org"));

        assertThat(body.path("subject").asText()).isEqualTo("Café crème");
        assertThat(body.path("from").path("name").asText()).isEqualTo("François Lévesque");
        JsonNode to = body.path("personalizations").get(0).path("to");
        // The envelope's spelling, the header's name.
        assertThat(emails(to)).containsExactly("E@example.org", "plain@example.org");
        assertThat(to.get(0).path("name").asText()).isEqualTo("Élodíe");
        assertThat(to.get(1).has("name")).isFalse();
        // Several Reply-To: reply_to_list (SendGrid refuses reply_to with it).
        assertThat(body.has("reply_to")).isFalse();
        assertThat(emails(body.path("reply_to_list"))).containsExactly("one@sender.test", "two@sender.test");
    }

    @Test
    void theEnvelopeDecidesWhoReceivesAndEachAddressComesOnce() {
        String mime = "From: a@sender.test\r\nTo: t@example.org, not-in-envelope@example.org\r\n"
                + "Cc: c@example.org, t@example.org\r\nSubject: s\r\n\r\nbody\r\n";
        SendGridMail mail = SendGridMail.of(mime.getBytes(StandardCharsets.US_ASCII),
                List.of("t@example.org", "c@example.org", "hidden@example.org", "T@EXAMPLE.ORG"), "b@sender.test",
                ID, "ws");
        JsonNode personalization = mail.body().path("personalizations").get(0);
        assertThat(mail.body().path("personalizations")).hasSize(1);
        assertThat(emails(personalization.path("to"))).containsExactly("t@example.org");
        assertThat(emails(personalization.path("cc"))).containsExactly("c@example.org");
        assertThat(emails(personalization.path("bcc"))).containsExactly("hidden@example.org");
        assertThat(mail.recipientFields()).containsEntry("personalizations.0.to.0.email", "t@example.org")
                .containsEntry("personalizations.0.cc.0.email", "c@example.org")
                .containsEntry("personalizations.0.bcc.0.email", "hidden@example.org").hasSize(3);
    }

    @Test
    void mailForBccRecipientsOnlyGivesEachItsOwnPersonalization() {
        String mime = "From: a@sender.test\r\nTo: undisclosed-recipients:;\r\nSubject: s\r\n\r\nbody\r\n";
        SendGridMail mail = SendGridMail.of(mime.getBytes(StandardCharsets.US_ASCII),
                List.of("x@example.org", "y@example.org"), "b@sender.test", ID, "ws");
        JsonNode personalizations = mail.body().path("personalizations");
        assertThat(personalizations).hasSize(2);
        assertThat(emails(personalizations.get(0).path("to"))).containsExactly("x@example.org");
        assertThat(emails(personalizations.get(1).path("to"))).containsExactly("y@example.org");
        assertThat(personalizations.get(0).has("bcc")).isFalse();
        assertThat(mail.recipientFields()).containsEntry("personalizations.1.to.0.email", "y@example.org");
    }

    @Test
    void reservedHeadersAreLeftOutAndTheOthersUnfoldedOnce() {
        String mime = "Received: from x by y\r\nDKIM-Signature: v=1; a=rsa-sha256; d=sender.test;\r\n b=abc\r\n"
                + "From: a@sender.test\r\nTo: b@example.org\r\nSubject: s\r\nDate: Tue, 1 Dec 2026 10:00:00 +0000\r\n"
                + "X-SG-EID: forged\r\nX-Long: one\r\n two\r\nComments: first\r\nComments: second\r\n"
                + "List-Unsubscribe: <https://sender.test/u>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
                + "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nbody\r\n";
        JsonNode headers = map(mime, List.of("b@example.org")).path("headers");
        List<String> names = new ArrayList<>();
        headers.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("X-Long", "Comments", "List-Unsubscribe", "List-Unsubscribe-Post");
        assertThat(headers.path("X-Long").asText()).isEqualTo("one two");
        assertThat(headers.path("Comments").asText()).isEqualTo("first");
    }

    @Test
    void tagsBecomeCategoriesWithinSendGridsLimitsAndMetadataCustomArgs() {
        StringBuilder tags = new StringBuilder();
        for (int i = 1; i <= 12; i++) {
            tags.append(i == 1 ? "" : ", ").append("t").append(i);
        }
        String mime = "From: a@sender.test\r\nTo: b@example.org\r\nSubject: s\r\nX-MC-Tags: " + tags + "\r\n"
                + "X-MC-Metadata: {\"relay_message_id\": \"forged\", \"plan\": \"pro\", \"seats\": 3}\r\n\r\nbody\r\n";
        JsonNode body = map(mime, List.of("b@example.org"));
        assertThat(body.path("categories")).hasSize(SendGridMail.MAX_CATEGORIES);
        assertThat(body.path("categories").get(0).asText()).isEqualTo("t1");
        JsonNode args = body.path("custom_args");
        assertThat(args.path("relay_message_id").asText()).isEqualTo(ID);
        assertThat(args.path("relay_workspace").asText()).isEqualTo("ws");
        assertThat(args.path("plan").asText()).isEqualTo("pro");
        assertThat(args.path("seats").asText()).isEqualTo("3");
        assertThat(body.path("headers").has("X-MC-Tags")).isFalse();
    }

    @Test
    void aMessageOfAnAttachmentOnlyStillHasTheContentSendGridRequires() {
        String mime = "From: a@sender.test\r\nTo: b@example.org\r\nSubject: scan\r\n"
                + "Content-Type: application/pdf; name=scan.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}) + "\r\n";
        JsonNode body = map(mime, List.of("b@example.org"));
        assertThat(body.path("content")).hasSize(1);
        assertThat(body.path("content").get(0).path("value").asText()).isEqualTo(" ");
        assertThat(body.path("attachments").get(0).path("filename").asText()).isEqualTo("scan.pdf");
        assertThat(Base64.getDecoder().decode(body.path("attachments").get(0).path("content").asText()))
                .containsExactly(1, 2, 3);
    }

    @Test
    void moreRecipientsThanSendGridTakesAreRefused() {
        List<String> recipients = new ArrayList<>();
        for (int i = 0; i <= SendGridMail.MAX_RECIPIENTS; i++) {
            recipients.add("r" + i + "@example.org");
        }
        assertThatThrownBy(() -> SendGridMail.of("From: a@sender.test\r\n\r\nx".getBytes(StandardCharsets.US_ASCII),
                recipients, "b@sender.test", ID, "ws")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at most 1000");
    }
}
