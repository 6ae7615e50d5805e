package com.mailrelay.tracking;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import com.mailrelay.support.Upstreams;
import jakarta.mail.Address;
import jakarta.mail.Multipart;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Marketing mail submitted over SMTP (STARTTLS + AUTH, as workspace globex) is personalised like
 * REST mail: a copy per recipient with its own tracking links, pixel and unsubscribe headers,
 * X-MC-MergeVars filled in (and removed), quoted-printable HTML decoded and re-encoded, the
 * attachment and the client's Message-ID kept.
 */
class SmtpTrackingTest extends TrackingTestSupport {

    @Test
    void smtpMarketingMailIsTrackedPerRecipient() throws Exception {
        String marker = "smtp-track-" + System.nanoTime();
        String pat = "pat-" + System.nanoTime() + "@customer.test";
        String sam = "sam-" + System.nanoTime() + "@customer.test";
        byte[] attachment = new byte[600];
        for (int i = 0; i < attachment.length; i++) {
            attachment[i] = (byte) (i * 13);
        }
        String raw = "From: News <news@globex.test>\r\n"
                + "To: " + pat + ", " + sam + "\r\n"
                + "Subject: " + marker + "\r\n"
                + "Message-ID: <" + marker + "@globex.test>\r\n"
                + "X-MC-MergeVars: {\"FIRST_NAME\": \"Friend\", \"OFFER\": 3}\r\n"
                + "X-MC-MergeVars: {\"_rcpt\": \"" + pat + "\", \"FIRST_NAME\": \"Pat\"}\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
                + "\r\n"
                + "--outer\r\n"
                + "Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
                + "\r\n"
                + "--alt\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + "Grüße {{FIRST_NAME}}, offer {{OFFER}}: https://shop.test/smtp\r\n"
                + "--alt\r\n"
                + "Content-Type: text/html; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: quoted-printable\r\n"
                + "\r\n"
                + "<html><body><p>Gr=C3=BC=C3=9Fe {{FIRST_NAME}}, see <a href=3D\"https://shop.test/s=\r\n"
                + "mtp?x=3D1\">the offer</a></p></body></html>\r\n"
                + "--alt--\r\n"
                + "--outer\r\n"
                + "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
                + "\r\n"
                + Base64.getMimeEncoder(76, "\r\n".getBytes()).encodeToString(attachment) + "\r\n"
                + "--outer--\r\n";

        Session session = Session.getInstance(smtpClientProperties());
        MimeMessage message = new MimeMessage(session, new ByteArrayInputStream(raw.getBytes(StandardCharsets.UTF_8)));
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("127.0.0.1", smtp.port(), "globex", "globex-password");
            transport.sendMessage(message, new Address[] {new InternetAddress(pat), new InternetAddress(sam)});
        }

        List<Map<String, Object>> rows = jdbc.queryForList(
                "select id, recipients, batch_id from messages where subject = ?", marker);
        assertThat(rows).hasSize(2);
        assertThat(rows).extracting(r -> r.get("batch_id")).doesNotContainNull().containsOnly(rows.get(0).get("batch_id"));
        for (Map<String, Object> row : rows) {
            String id = row.get("id").toString();
            String recipient = row.get("recipients").toString().contains(pat) ? pat : sam;
            awaitStatus(id, "SENT");
            MimeMessage stored = stored(id);
            assertThat(header(stored, "X-MC-MergeVars")).isNull();
            assertThat(header(stored, "Received")).startsWith("from client.test");
            assertThat(header(stored, "Message-ID")).isEqualTo("<" + marker + "@globex.test>");
            assertThat(header(stored, "List-Unsubscribe")).matches("<" + UNSUBSCRIBE.pattern() + ">");
            String name = recipient.equals(pat) ? "Pat" : "Friend";
            assertThat(part(stored, "text/plain")).isEqualTo("Grüße " + name + ", offer 3: https://shop.test/smtp");
            String html = part(stored, "text/html");
            assertThat(html).startsWith("<html><body><p>Grüße " + name + ", see <a href=\"https://relay.test/t/c/")
                    .doesNotContain("shop.test");
            assertThat(all(PIXEL, html)).hasSize(1);
            Multipart outer = (Multipart) stored.getContent();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            outer.getBodyPart(1).getDataHandler().writeTo(bytes);
            assertThat(bytes.toByteArray()).isEqualTo(attachment);

            if (recipient.equals(pat)) {
                var redirect = visit(all(CLICK, html).get(0), "MailApp/5");
                assertThat(redirect.statusCode()).isEqualTo(302);
                assertThat(redirect.headers().firstValue("Location")).hasValue("https://shop.test/smtp?x=1");
                assertThat(events(id, "click")).singleElement().satisfies(click ->
                        assertThat(click).containsEntry("user_agent", "MailApp/5"));
                assertThat(jdbc.queryForObject("select recipient from events where message_id = ? and type = 'click'",
                        String.class, UUID.fromString(id))).isEqualTo(pat);
            }
        }
        assertThat(Upstreams.received(Upstreams.greenMail("globex-marketing"), marker)).hasSize(2);
    }


    @Test
    void marketingMailWhoseMimeCannotBeReadIsRefusedForGood() {
        String subject = "unreadable-" + System.nanoTime();
        try (com.mailrelay.support.SmtpConversation client = com.mailrelay.support.SmtpConversation.open(smtp.port())) {
            assertThat(client.login("globex", "globex-password")).startsWith("235");
            // Multipart without any of its boundaries: nothing can personalise it.
            assertThat(client.submit("news@globex.test", "reader-" + System.nanoTime() + "@customer.test",
                    "From: news@globex.test\r\nSubject: " + subject + "\r\nMIME-Version: 1.0\r\n"
                    + "Content-Type: multipart/mixed; boundary=\"nowhere\"\r\n\r\nno parts at all\r\n"))
                    .startsWith("554 5.6.0");
        }
        assertThat(jdbc.queryForObject("select count(*) from messages where subject = ?", Long.class, subject))
                .isZero();
    }

    @Test
    void htmlWithoutADeclaredCharsetKeepsItsUtf8() throws Exception {
        String subject = "no-charset-" + System.nanoTime();
        try (com.mailrelay.support.SmtpConversation client = com.mailrelay.support.SmtpConversation.open(smtp.port())) {
            assertThat(client.login("globex", "globex-password")).startsWith("235");
            // 8-bit UTF-8 with no charset parameter: common in HTML that names it only in a meta tag.
            assertThat(client.submit("news@globex.test", "kai-" + System.nanoTime() + "@customer.test",
                    "From: news@globex.test\r\nSubject: " + subject + "\r\nMIME-Version: 1.0\r\n"
                    + "Content-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                    + "<html><body>Grüße <a href=\"https://shop.test/g\">shop</a></body></html>\r\n"))
                    .startsWith("250");
        }
        String id = jdbc.queryForObject("select id from messages where subject = ?", String.class, subject);
        String html = part(stored(id), "text/html");
        assertThat(html).startsWith("<html><body>Grüße <a href=\"https://relay.test/t/c/");
        assertThat(all(PIXEL, html)).hasSize(1);
    }
}
