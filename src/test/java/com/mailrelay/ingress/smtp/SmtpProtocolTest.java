package com.mailrelay.ingress.smtp;

import java.util.ArrayList;
import java.util.List;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Raw SMTP conversations with the relay, one per reply code the submission server promises.
 * Each refused transaction is also checked to have stored nothing.
 */
class SmtpProtocolTest extends RelayTestSupport {

    @Test
    void ehloAdvertisesTheExtensionsAndNoAuthBeforeTls() {
        try (SmtpConversation smtp = open()) {
            assertThat(smtp.greeting()).startsWith("220 ");
            String ehlo = smtp.send("EHLO client.test");
            assertThat(ehlo).contains("250-SIZE 10485760").contains("250-8BITMIME").contains("250-STARTTLS")
                    .contains("250-PIPELINING").endsWith("250 ENHANCEDSTATUSCODES").doesNotContain("AUTH");
            String afterTls = smtp.startTls();
            assertThat(afterTls).contains("250-AUTH PLAIN LOGIN").contains("250-SIZE 10485760")
                    .contains("250-PIPELINING").endsWith("250 ENHANCEDSTATUSCODES").doesNotContain("STARTTLS");
            // Every final reply carries an enhanced status code.
            assertThat(smtp.send("NOOP")).startsWith("250 2.0.0");
            assertThat(smtp.send("RSET")).startsWith("250 2.0.0");
            assertThat(smtp.send("BOGUS")).matches("500 5\\.5\\.2 .*");
            assertThat(smtp.send("QUIT")).startsWith("221 2.0.0");
        }
    }

    @Test
    void mailWithoutAuthenticationIsRefused() {
        try (SmtpConversation smtp = open()) {
            smtp.send("EHLO client.test");
            assertThat(smtp.send("MAIL FROM:<app@acme.test>")).startsWith("530 5.7.0");
        }
    }

    @Test
    void authBeforeStartTlsIsRefused() {
        try (SmtpConversation smtp = open()) {
            smtp.send("EHLO client.test");
            assertThat(smtp.authPlain("acme", "acme-password")).startsWith("538 5.7.11");
            assertThat(smtp.send("MAIL FROM:<app@acme.test>")).startsWith("530 5.7.0");
        }
    }

    @Test
    void wrongPasswordIs535() {
        try (SmtpConversation smtp = open()) {
            assertThat(smtp.login("acme", "not-the-password")).startsWith("535 5.7.8");
            assertThat(smtp.authPlain("nobody", "acme-password")).startsWith("535 5.7.8");
            assertThat(smtp.send("MAIL FROM:<app@acme.test>")).startsWith("530 5.7.0");
        }
    }

    @Test
    void badSenderAndRecipientSyntax() {
        try (SmtpConversation smtp = authenticated()) {
            assertThat(smtp.send("MAIL FROM:<not-an-address>")).startsWith("553 5.1.7");
            assertThat(smtp.send("MAIL FROM:<>")).startsWith("553 5.1.7");
            assertThat(smtp.send("MAIL FROM:<app@acme.test>")).startsWith("250 2.0.0");
            assertThat(smtp.send("RCPT TO:<nobody>")).startsWith("553 5.1.3");
            assertThat(smtp.send("RCPT TO:<ok@customer.test>")).startsWith("250 2.0.0");
        }
    }

    @Test
    void senderDomainOfAnotherWorkspaceIsRefused() {
        try (SmtpConversation smtp = authenticated()) {
            assertThat(smtp.send("MAIL FROM:<app@globex.test>")).startsWith("550 5.7.1");
        }
    }

    @Test
    void theHundredAndFirstRecipientIs452() {
        try (SmtpConversation smtp = authenticated()) {
            smtp.send("MAIL FROM:<app@acme.test>");
            for (int i = 0; i < 100; i++) {
                assertThat(smtp.send("RCPT TO:<r" + i + "@customer.test>")).startsWith("250");
            }
            assertThat(smtp.send("RCPT TO:<r100@customer.test>")).startsWith("452 4.5.3");
        }
    }

    @Test
    void declaredSizeOverTheLimitIs552() {
        try (SmtpConversation smtp = authenticated()) {
            assertThat(smtp.send("MAIL FROM:<app@acme.test> SIZE=20000000")).startsWith("552 5.3.4");
        }
    }

    @Test
    void dataOverTheLimitIs552AndNothingIsStored() {
        String subject = "too big " + System.nanoTime();
        try (SmtpConversation smtp = authenticated()) {
            smtp.send("MAIL FROM:<app@acme.test>");
            smtp.send("RCPT TO:<big@customer.test>");
            assertThat(smtp.send("DATA")).startsWith("354");
            StringBuilder data = new StringBuilder("Subject: " + subject + "\r\n\r\n");
            String line = "y".repeat(998) + "\r\n";
            while (data.length() < 10_600_000) {
                data.append(line);
            }
            smtp.write(data + ".\r\n");
            assertThat(smtp.readReply()).startsWith("552 5.3.4");
            // The session is still usable.
            assertThat(smtp.send("NOOP")).startsWith("250");
        }
        assertThat(storedWithSubject(subject)).isZero();
    }

    @Test
    void pipelinedTransactionGetsEveryReplyInOrder() {
        String subject = "pipelined " + System.nanoTime();
        try (SmtpConversation smtp = authenticated()) {
            smtp.write("MAIL FROM:<app@acme.test>\r\nRCPT TO:<p1@customer.test>\r\nRCPT TO:<bad>\r\n"
                    + "RCPT TO:<p2@customer.test>\r\nDATA\r\n");
            List<String> replies = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                replies.add(smtp.readReply());
            }
            assertThat(replies.get(0)).startsWith("250");
            assertThat(replies.get(1)).startsWith("250");
            assertThat(replies.get(2)).startsWith("553 5.1.3");
            assertThat(replies.get(3)).startsWith("250");
            assertThat(replies.get(4)).startsWith("354");
            smtp.write("Subject: " + subject + "\r\n\r\nhello\r\n.\r\n");
            String accepted = smtp.readReply();
            assertThat(accepted).startsWith("250 2.0.0");
            String id = accepted.substring(accepted.lastIndexOf(' ') + 1);
            assertThat(row(id).get("recipients").toString()).contains("p1@customer.test").contains("p2@customer.test")
                    .doesNotContain("bad");
            awaitStatus(id, "SENT");
        }
    }

    @Test
    void clientThatDisconnectsDuringDataStoresNothing() {
        String subject = "cut off " + System.nanoTime();
        try (SmtpConversation smtp = authenticated()) {
            smtp.send("MAIL FROM:<app@acme.test>");
            smtp.send("RCPT TO:<cut@customer.test>");
            smtp.send("DATA");
            smtp.write("Subject: " + subject + "\r\n\r\nhalf a message");
        }
        // The next session works and the half message was never stored.
        try (SmtpConversation smtp = authenticated()) {
            assertThat(smtp.send("NOOP")).startsWith("250");
        }
        assertThat(storedWithSubject(subject)).isZero();
    }

    @Test
    void trustedNetworkSubmitsWithoutAuthAndTheSenderDomainPicksTheWorkspace() {
        String subject = "trusted " + System.nanoTime();
        try (SmtpConversation smtp = SmtpConversation.open(smtp().port(), "127.0.0.2")) {
            smtp.send("EHLO client.test");
            assertThat(smtp.send("MAIL FROM:<app@nowhere.test>")).startsWith("550 5.7.1");
            smtp.send("RSET");
            assertThat(smtp.send("MAIL FROM:<app@globex.test>")).startsWith("250");
            assertThat(smtp.send("RCPT TO:<t@customer.test>")).startsWith("250");
            smtp.send("DATA");
            smtp.write("Subject: " + subject + "\r\n\r\nfrom a trusted host\r\n.\r\n");
            String accepted = smtp.readReply();
            assertThat(accepted).startsWith("250 2.0.0");
            String id = accepted.substring(accepted.lastIndexOf(' ') + 1);
            assertThat(row(id).get("workspace_id")).isEqualTo("globex");
            assertThat(row(id).get("email_type")).isEqualTo("marketing");
        }
    }

    @Test
    void relayHeadersAreReadAndRemoved() {
        String subject = "headers " + System.nanoTime();
        try (SmtpConversation smtp = authenticated()) {
            smtp.send("MAIL FROM:<app@acme.test>");
            smtp.send("RCPT TO:<h@customer.test>");
            smtp.send("DATA");
            smtp.write("Subject: " + subject + "\r\nX-Relay-Type: marketing\r\nX-MC-Tags: autumn, sale\r\n"
                    + "X-MC-Metadata: {\"order\": 42}\r\nBcc: secret@customer.test\r\n\r\nbody\r\n.\r\n");
            String accepted = smtp.readReply();
            assertThat(accepted).startsWith("250 2.0.0");
            String id = accepted.substring(accepted.lastIndexOf(' ') + 1);
            var row = row(id);
            assertThat(row.get("email_type")).isEqualTo("marketing");
            assertThat(row.get("tags").toString()).isEqualTo("[\"autumn\",\"sale\"]");
            assertThat(row.get("metadata").toString()).isEqualTo("{\"order\":42}");
            String stored = new String((byte[]) row.get("raw_mime"));
            assertThat(stored).doesNotContain("X-Relay-Type").doesNotContain("secret@customer.test")
                    .contains("X-MC-Tags: autumn, sale");
            awaitStatus(id, "SENT");
            assertThat(row(id).get("provider_id")).isEqualTo("acme-marketing");
        }
    }

    @Test
    void badRelayTypeIsRefused() {
        try (SmtpConversation smtp = authenticated()) {
            smtp.send("MAIL FROM:<app@acme.test>");
            smtp.send("RCPT TO:<h@customer.test>");
            smtp.send("DATA");
            smtp.write("Subject: bad type\r\nX-Relay-Type: bulk\r\n\r\nbody\r\n.\r\n");
            assertThat(smtp.readReply()).startsWith("550 5.6.0");
        }
    }

    private SmtpConversation open() {
        return SmtpConversation.open(smtp.port());
    }

    private SmtpConversation authenticated() {
        SmtpConversation conversation = open();
        assertThat(conversation.login("acme", "acme-password")).startsWith("235");
        return conversation;
    }

    private SmtpIngress smtp() {
        return smtp;
    }

    private long storedWithSubject(String subject) {
        return jdbc.queryForObject("select count(*) from messages where subject = ?", Long.class, subject);
    }
}
