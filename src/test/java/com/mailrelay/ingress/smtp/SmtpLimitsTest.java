package com.mailrelay.ingress.smtp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.mailrelay.support.Upstreams.received;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The SMTP server's abuse limits, over real connections from distinct loopback addresses (each
 * test its own, so that their counts do not mix): connections per client address, AUTH outside
 * TLS, AUTH throttling, and the protocol named in the Received header.
 */
class SmtpLimitsTest extends RelayTestSupport {

    /** max-connections-per-address in the test profile. */
    private static final int PER_ADDRESS = 12;

    @Autowired
    private MeterRegistry meters;

    @Test
    void connectionsBeyondThePerAddressLimitGet421WhileAnotherAddressStillConnects() {
        List<SmtpConversation> open = new ArrayList<>();
        try {
            for (int i = 0; i < PER_ADDRESS; i++) {
                SmtpConversation conversation = SmtpConversation.open(smtp.port(), "127.0.0.31");
                open.add(conversation);
                assertThat(conversation.greeting()).startsWith("220 ");
            }
            double refusedBefore = refused("per-address");
            try (SmtpConversation extra = SmtpConversation.open(smtp.port(), "127.0.0.31")) {
                assertThat(extra.greeting()).isEqualTo("421 4.7.0 Too many connections from 127.0.0.31 "
                        + "(relay.smtp.max-connections-per-address is 12): close some or try again later");
                assertThat(extra.readReply()).as("closed after the 421").isNull();
            }
            assertThat(refused("per-address")).isEqualTo(refusedBefore + 1);
            // Another client address is not affected, and can submit.
            try (SmtpConversation other = SmtpConversation.open(smtp.port(), "127.0.0.32")) {
                assertThat(other.greeting()).startsWith("220 ");
                assertThat(other.login("acme", "acme-password")).startsWith("235");
            }
            // A slot freed at the first address is usable again.
            open.remove(0).close();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50)).until(() -> {
                try (SmtpConversation again = SmtpConversation.open(smtp.port(), "127.0.0.31")) {
                    return again.greeting().startsWith("220 ");
                }
            });
        } finally {
            open.forEach(SmtpConversation::close);
        }
    }

    @Test
    void authOutsideTlsIs538AtTheCommandBeforeAnyCredentialIsSent() {
        double checks = bcryptChecks();
        try (SmtpConversation client = SmtpConversation.open(smtp.port(), "127.0.0.33")) {
            assertThat(client.send("EHLO client.test")).doesNotContain("AUTH");
            // No 334 prompt: the client is told before it sends a user name or password.
            assertThat(client.send("AUTH LOGIN")).isEqualTo("538 5.7.11 Encryption required for requested "
                    + "authentication mechanism: issue STARTTLS first, then AUTH");
            assertThat(client.send("AUTH PLAIN")).startsWith("538 5.7.11 ");
            assertThat(client.authPlain("acme", "acme-password")).startsWith("538 5.7.11 ");
            assertThat(client.send("MAIL FROM:<app@acme.test>")).startsWith("530 5.7.0");
            assertThat(bcryptChecks()).as("no password was checked outside TLS").isEqualTo(checks);
            // The session goes on: inside TLS the same client logs in (nothing was counted as a failure).
            client.startTls();
            assertThat(client.authPlain("acme", "acme-password")).startsWith("235");
        }
    }

    @Test
    void aThrottledAuthIsAnsweredAtOnceWithoutBcryptEvenWithTheRightPassword() {
        try (SmtpConversation client = SmtpConversation.open(smtp.port(), "127.0.0.34")) {
            client.startTls();
            for (int i = 0; i < 5; i++) {                   // auth-max-failures: 5
                assertThat(client.authPlain("acme", "guess-" + i)).startsWith("535 5.7.8");
            }
            double checks = bcryptChecks();
            double throttled = meters.counter("relay.smtp.auth.refused", "reason", "throttled").count();

            String refusal = client.authPlain("acme", "guess-5");
            assertThat(refusal).matches("454 4\\.7\\.0 Too many failed logins from 127\\.0\\.0\\.34: AUTH is not "
                    + "checked for (8\\d\\d|900) s; wait, then try again with the right password");
            // The right password is refused too while the address is throttled: nothing is checked.
            assertThat(client.authPlain("acme", "acme-password")).startsWith("454 4.7.0 ");
            // AUTH LOGIN gets no 334 prompt either; nor does a second connection from the address.
            assertThat(client.send("AUTH LOGIN")).startsWith("454 4.7.0 ");
            try (SmtpConversation second = SmtpConversation.open(smtp.port(), "127.0.0.34")) {
                second.startTls();
                assertThat(second.authPlain("acme", "guess-6")).startsWith("454 4.7.0 ");
            }
            assertThat(bcryptChecks()).as("no BCrypt check while throttled").isEqualTo(checks);
            assertThat(meters.counter("relay.smtp.auth.refused", "reason", "throttled").count())
                    .isEqualTo(throttled + 4);
            assertThat(client.send("MAIL FROM:<app@acme.test>")).startsWith("530 5.7.0");
        }
        // Another address logs in as usual.
        try (SmtpConversation other = SmtpConversation.open(smtp.port(), "127.0.0.35")) {
            assertThat(other.login("acme", "acme-password")).startsWith("235");
        }
    }

    @Test
    void receivedHeaderNamesTheProtocolAsRfc3848Does() throws Exception {
        String run = "proto-" + System.nanoTime();

        String esmtpsa;
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            esmtpsa = stored(client, "app@acme.test", run + "-sa");
        }
        assertThat(receivedOf(esmtpsa)).matches("(?s)Received: from client\\.test \\(\\[127\\.0\\.0\\.1]\\)\r\n"
                + " {8}by \\S+ with ESMTPSA \\(TLSv1\\.[23], TLS_\\w+\\) id \\S+\r\n"
                + " {8}for <r@customer\\.test>;\r\n {8}\\w{3}, \\d{1,2} \\w{3} \\d{4} \\d\\d:\\d\\d:\\d\\d [+-]\\d{4}\r\n");

        // 127.0.0.2 is a trusted network: it submits without AUTH.
        String esmtps;
        try (SmtpConversation client = SmtpConversation.open(smtp.port(), "127.0.0.2")) {
            client.startTls();
            esmtps = stored(client, "app@globex.test", run + "-s");
        }
        assertThat(receivedOf(esmtps)).contains(" with ESMTPS (TLSv1.").doesNotContain("ESMTPSA");

        String esmtp;
        try (SmtpConversation client = SmtpConversation.open(smtp.port(), "127.0.0.2")) {
            client.send("EHLO client.test");
            esmtp = stored(client, "app@globex.test", run + "-plain");
        }
        assertThat(receivedOf(esmtp)).contains(" with ESMTP id ").startsWith("Received: from client.test ([127.0.0.2])");

        String smtpHelo;
        try (SmtpConversation client = SmtpConversation.open(smtp.port(), "127.0.0.2")) {
            client.send("HELO old.client.test");
            smtpHelo = stored(client, "app@globex.test", run + "-helo");
        }
        assertThat(receivedOf(smtpHelo)).contains(" with SMTP id ").startsWith("Received: from old.client.test ");

        // The bytes delivered upstream carry the same header.
        String id = jdbc.queryForObject("select id from messages where subject = ?", String.class, run + "-sa");
        awaitStatus(id, "SENT");
        var upstream = Upstreams.greenMail("acme-transactional");
        await().atMost(Duration.ofSeconds(10)).until(() -> received(upstream, run + "-sa").size() == 1);
        MimeMessage copy = received(upstream, run + "-sa").get(0);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        copy.writeTo(bytes);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).contains(receivedOf(esmtpsa));
    }

    /** Submits one message with this subject (also in its Message-ID) and returns its stored MIME. */
    private String stored(SmtpConversation client, String from, String subject) {
        String reply = client.submit(from, "r@customer.test", "From: " + from + "\r\nSubject: " + subject
                + "\r\nMessage-ID: <" + subject + "@client.test>\r\n\r\nhello\r\n");
        assertThat(reply).startsWith("250 2.0.0");
        String id = reply.substring(reply.lastIndexOf(' ') + 1);
        return new String((byte[]) row(id).get("raw_mime"), StandardCharsets.UTF_8);
    }

    /** The first header field of a message (the relay's Received), folded lines included. */
    private static String receivedOf(String mime) {
        assertThat(mime).startsWith("Received: ");
        int end = 0;
        do {
            end = mime.indexOf("\r\n", end) + 2;
        } while (mime.charAt(end) == ' ' || mime.charAt(end) == '\t');
        return mime.substring(0, end);
    }

    private double bcryptChecks() {
        return meters.get("relay.smtp.auth.bcrypt.checks").counter().count();
    }

    private double refused(String reason) {
        return meters.counter("relay.smtp.connections.refused", "reason", reason).count();
    }
}
