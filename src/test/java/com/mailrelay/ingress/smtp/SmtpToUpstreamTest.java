package com.mailrelay.ingress.smtp;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Properties;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import jakarta.mail.Address;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** A real client (Jakarta Mail) over STARTTLS + AUTH PLAIN → relay → GreenMail upstream. */
class SmtpToUpstreamTest extends RelayTestSupport {

    @Test
    void messageArrivesUpstreamByteForByte() throws Exception {
        String marker = "bytes-" + System.nanoTime();
        byte[] original = rawMessage(marker);

        Session session = Session.getInstance(smtpClientProperties());
        MimeMessage message = new MimeMessage(session, new ByteArrayInputStream(original));
        try (Transport transport = session.getTransport("smtp")) {
            transport.connect("127.0.0.1", smtp.port(), "acme", "acme-password");
            // sendMessage, not Transport.send: the message goes out exactly as built, unsaved.
            transport.sendMessage(message, new Address[] {
                    new InternetAddress("mira@customer.test"), new InternetAddress("hidden@customer.test")});
        }

        String id = jdbc.queryForObject("select id from messages where subject = ?", String.class, marker);
        awaitStatus(id, "SENT");
        byte[] expected = withoutLine(original, "Bcc: hidden@customer.test\r\n");

        // Stored: the relay's Received header, then the message as the client sent it, less Bcc.
        String stored = new String((byte[]) row(id).get("raw_mime"), StandardCharsets.UTF_8);
        assertThat(stored).startsWith("Received: from client.test");
        assertThat(stored.substring(stored.indexOf("From: Mira Sender"))).isEqualTo(new String(expected, StandardCharsets.UTF_8));

        var upstream = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> received(upstream, marker).size() == 2);

        // What the upstream got is the same, after trace headers only. (GreenMail keeps the
        // message without the CRLF that ends the DATA, hence the comparison without it.)
        for (MimeMessage copy : received(upstream, marker)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            copy.writeTo(bytes);
            String arrived = bytes.toString(StandardCharsets.UTF_8);
            int start = arrived.indexOf("From: Mira Sender");
            assertThat(start).isPositive();
            assertThat(arrived.substring(0, start)).as("only trace headers precede the message")
                    .matches("(?s)(Return-Path: [^\\n]*\\n|Received: .*)*");
            assertThat(arrived.substring(0, start)).contains("Received: from client.test").contains("by ");
            assertThat(arrived.substring(start) + "\r\n").isEqualTo(new String(expected, StandardCharsets.UTF_8));
            assertThat(arrived).doesNotContain("hidden@customer.test");
        }
        assertThat(row(id).get("recipients").toString()).contains("hidden@customer.test");
        assertThat(eventTypes(id)).containsExactly("send", "send");
    }


    /**
     * Multipart with an 8-bit UTF-8 text part, a line of 990 characters, lines that begin with a
     * dot (dot-stuffed on the wire), and a binary attachment in base64.
     */
    static byte[] rawMessage(String subject) {
        byte[] binary = new byte[4096];
        for (int i = 0; i < binary.length; i++) {
            binary[i] = (byte) (i * 7 + 3);
        }
        String base64 = Base64.getMimeEncoder(76, "\r\n".getBytes()).encodeToString(binary);
        String text = "Grüße aus Köln — ünïcödé ✓\r\n"
                + ".a line that starts with a dot\r\n"
                + "..and one with two\r\n"
                + "x".repeat(990) + "\r\n"
                + ".\r\n"
                + "end";
        return ("From: Mira Sender <mira@acme.test>\r\n"
                + "To: mira@customer.test\r\n"
                + "Bcc: hidden@customer.test\r\n"
                + "Subject: " + subject + "\r\n"
                + "Message-ID: <" + subject + "@acme.test>\r\n"
                + "MIME-Version: 1.0\r\n"
                + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
                + "\r\n"
                + "--b1\r\n"
                + "Content-Type: text/plain; charset=UTF-8\r\n"
                + "Content-Transfer-Encoding: 8bit\r\n"
                + "\r\n"
                + text + "\r\n"
                + "--b1\r\n"
                + "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
                + "Content-Transfer-Encoding: base64\r\n"
                + "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
                + "\r\n"
                + base64 + "\r\n"
                + "--b1--\r\n").getBytes(StandardCharsets.UTF_8);
    }

    static List<MimeMessage> received(com.icegreen.greenmail.util.GreenMail upstream, String marker) {
        return Upstreams.received(upstream, marker);
    }

    private static byte[] withoutLine(byte[] message, String line) {
        return new String(message, StandardCharsets.UTF_8).replace(line, "").getBytes(StandardCharsets.UTF_8);
    }
}
