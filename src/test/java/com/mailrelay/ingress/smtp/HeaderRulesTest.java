package com.mailrelay.ingress.smtp;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.Upstreams;
import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The headers of an SMTP message obey the rules of its envelope: the From: and Sender: domains
 * are the account's sender domains (and never a domain another workspace claims, REST included),
 * and Bcc / Resent-Bcc are removed whatever the line ends of the header section, bare CR included.
 */
class HeaderRulesTest extends RelayTestSupport {

    private static final String RCPT = "ok@customer.test";

    @Test
    void fromAndSenderDomainsMustBeTheAccountsSenderDomains() {
        assertRefused("acme", "app@acme.test", "From: ceo@bank.example\r\n",
                "550 5.7.1 From: domain bank.example is not allowed for this account");
        assertRefused("acme", "app@acme.test", "From: app@acme.test\r\nSender: ceo@bank.example\r\n",
                "550 5.7.1 Sender: domain bank.example is not allowed for this account");
        assertRefused("acme", "app@acme.test", "From: Team <team@acme.test>, Boss <boss@globex.test>\r\n",
                "550 5.7.1 From: domain globex.test is not allowed for this account");
        assertRefused("acme", "app@acme.test", "From: app@acme.test\r\nFrom: ceo@bank.example\r\n",
                "550 5.7.1 From: domain bank.example is not allowed for this account");
        assertRefused("acme", "app@acme.test", "From: list: ceo@bank.example;\r\n",
                "550 5.7.1 From: domain bank.example is not allowed for this account");
        assertRefused("acme", "app@acme.test", "From: <<<\r\n", "550 5.6.0 Header From ");
        // The domain compares as MAIL FROM does: case and display names do not matter.
        try (SmtpConversation smtp = login("acme")) {
            assertThat(smtp.submit("app@acme.test", RCPT, "From: \"The Boss\" <Boss@ACME.TEST>\r\nSender: ops@Acme.Test\r\n"
                    + "Subject: fine\r\n\r\nhi\r\n")).startsWith("250 2.0.0 Ok: queued");
        }
    }

    @Test
    void trustedNetworkMailObeysItsWorkspacesSenderDomainsInFromToo() {
        long before = countMessages("acme");
        try (SmtpConversation smtp = SmtpConversation.open(this.smtp.port(), "127.0.0.2")) {
            smtp.send("EHLO client.test");
            assertThat(smtp.submit("app@acme.test", RCPT, "From: ceo@globex.test\r\nSubject: x\r\n\r\nhi\r\n"))
                    .startsWith("550 5.7.1 From: domain globex.test is not allowed for this account");
        }
        assertThat(countMessages("acme")).isEqualTo(before);
    }

    @Test
    void aWorkspaceWithoutSenderDomainsCannotUseADomainAnotherWorkspaceClaims() {
        // "throttled" lists no sender domains: any domain, except those acme and globex claim.
        long before = countMessages("throttled");
        try (SmtpConversation smtp = login("throttled")) {
            assertThat(smtp.send("MAIL FROM:<app@ACME.test>")).startsWith("550 5.7.1 Sender domain acme.test is not allowed");
        }
        assertRefused("throttled", "app@throttled.test", "From: news@globex.test\r\n",
                "550 5.7.1 From: domain globex.test is not allowed for this account");
        assertThat(countMessages("throttled")).isEqualTo(before);

        // REST: "strict" lists none either.
        long strict = countMessages("strict");
        for (String from : List.of("app@acme.test", "App <app@ACME.TEST>", "news@Globex.Test")) {
            var response = post(key("strict"), message(from, RCPT, "claimed"), Map.of());
            assertThat(response.statusCode()).as(from).isEqualTo(400);
            assertThat(response.body()).contains("\"field\":\"from\"").contains("is not allowed for this workspace");
        }
        assertThat(countMessages("strict")).isEqualTo(strict);
        // Its own, unclaimed domains stay allowed.
        submit("strict", message("app@strict.test", RCPT, "own domain"));
    }

    @Test
    void bccAndResentBccAreRemovedWhateverTheLineEnds() throws Exception {
        String marker = "strip-" + System.nanoTime();
        String data = "From: app@acme.test\r\n"
                + "Message-ID: <" + marker + "@acme.test>\r\n"
                // A bare CR hides a Bcc: field behind the Subject: ...
                + "Subject: bare cr\rBcc: hidden-cr@customer.test\r\n"
                // ... a bare LF behind another one, folded over a bare CR ...
                + "X-Note: lf\nBcc: hidden-lf@customer.test,\r\n more-hidden@customer.test\r\n"
                + "Resent-Bcc: resent@customer.test\r\n"
                + "resent-bcc:\r\n\tfolded@customer.test\r\n"
                + "BCC: upper@customer.test\r\n"
                + "To: " + RCPT + "\r\n\r\nhello\r\n";
        String reply;
        try (SmtpConversation smtp = login("acme")) {
            reply = smtp.submit("app@acme.test", RCPT, data);
        }
        assertThat(reply).startsWith("250 2.0.0 Ok: queued as ");
        String id = reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
        String stored = new String((byte[]) row(id).get("raw_mime"), StandardCharsets.UTF_8);
        assertThat(stored).doesNotContainIgnoringCase("bcc").doesNotContain("hidden").doesNotContain("resent@");
        awaitStatus(id, "SENT");
        var upstream = Upstreams.greenMail("acme-transactional");
        await().until(() -> !Upstreams.received(upstream, marker).isEmpty());
        for (MimeMessage delivered : Upstreams.received(upstream, marker)) {
            assertThat(delivered.getHeader("Bcc")).isNull();
            assertThat(delivered.getHeader("Resent-Bcc")).isNull();
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            delivered.writeTo(bytes);
            assertThat(bytes.toString(StandardCharsets.UTF_8)).doesNotContainIgnoringCase("bcc:")
                    .doesNotContain("hidden").contains("Subject: bare cr");
        }
        assertThat(row(id).get("recipients").toString()).isEqualTo("[\"" + RCPT + "\"]");
    }

    private void assertRefused(String user, String mailFrom, String headers, String reply) {
        long before = countMessages(user);
        try (SmtpConversation smtp = login(user)) {
            assertThat(smtp.submit(mailFrom, RCPT, headers + "Subject: author\r\n\r\nhi\r\n")).startsWith(reply);
        }
        assertThat(countMessages(user)).as("nothing stored").isEqualTo(before);
    }

    private SmtpConversation login(String user) {
        SmtpConversation smtp = SmtpConversation.open(this.smtp.port());
        String password = user.equals("throttled") ? "limited-password" : user + "-password";
        assertThat(smtp.login(user, password)).startsWith("235");
        return smtp;
    }
}
