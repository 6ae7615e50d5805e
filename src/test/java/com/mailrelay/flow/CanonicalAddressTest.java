package com.mailrelay.flow;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One canonical form of every envelope address: an UNSUBSCRIBED recipient is never mailed,
 * whatever spelling of its address a client uses (case, quotes, Unicode or punycode domain,
 * display names and comments where REST allows them, a source route over SMTP); SMTP paths that
 * RFC 5321 does not allow are refused with 553 and the enhanced code of the path, storing nothing.
 */
class CanonicalAddressTest extends RelayTestSupport {

    private static final Pattern REJECTED_AS = Pattern.compile("rejected as ([0-9a-f-]{36})");

    @Test
    void everyRestSpellingOfAnUnsubscribedAddressIsRejectedInToCcAndBcc() {
        String local = "bob-" + System.nanoTime();
        String canonical = local + "@customer.test";
        unsubscribe("strict", canonical);
        List<String> spellings = List.of(
                local.toUpperCase() + "@customer.test",
                local + "@CUSTOMER.Test",
                "\"" + local + "\"@customer.test",
                "\"" + local.replace("-", "\\-") + "\"@customer.test",
                "Bob <" + local + "@customer.test>",
                local + "@customer.test (Bob)",
                "\"Bob, the builder\" <\"" + local.toUpperCase() + "\"@Customer.TEST>");
        int n = 0;
        for (String spelling : spellings) {
            // Alone in "to": the message is rejected at once, never queued.
            HttpResponse<String> alone = post(key("strict"), Map.of("from", "app@strict.test", "to", List.of(spelling),
                    "subject", "spelling " + n, "text", "x"), Map.of());
            assertThat(alone.statusCode()).as(spelling + ": " + alone.body()).isEqualTo(202);
            assertThat(read(alone.body())).as(spelling).containsEntry("status", "rejected");
            String id = (String) read(alone.body()).get("id");
            assertCanonical(rejectedRecipients(id), canonical, spelling);
            // In cc and bcc, next to a recipient that does get the message.
            for (String field : List.of("cc", "bcc")) {
                String fine = "fine-" + n++ + "-" + System.nanoTime() + "@customer.test";
                String mixed = submit("strict", Map.of("from", "app@strict.test", "to", List.of(fine),
                        field, List.of(spelling), "subject", "spelling in " + field, "text", "x"));
                awaitStatus(mixed, "SENT");
                assertCanonical(rejectedRecipients(mixed), canonical, field + " " + spelling);
                assertThat(Upstreams.scripted().deliveredTo(fine)).singleElement()
                        .satisfies(delivery -> assertThat(delivery.recipients()).containsExactly(fine));
            }
        }
        assertThat(Upstreams.scripted().tries(canonical)).as("never offered to the upstream").isZero();
        assertThat(Upstreams.scripted().tries(local.toUpperCase() + "@customer.test")).isZero();
    }

    @Test
    void anInternationalisedDomainIsOneAddressInUnicodeAndInPunycode() {
        String unicodeSuppressed = "ida-" + System.nanoTime() + "@bücher.test";
        String punycodeSuppressed = "ivo-" + System.nanoTime() + "@xn--bcher-kva.test";
        // The list keeps the punycode form, whichever was given.
        assertThat(read(unsubscribe("strict", unicodeSuppressed))).containsEntry("email",
                unicodeSuppressed.replace("bücher", "xn--bcher-kva"));
        unsubscribe("strict", punycodeSuppressed);
        unsubscribe("acme", punycodeSuppressed);

        for (String spelling : List.of(unicodeSuppressed.replace("bücher", "xn--bcher-kva"),
                unicodeSuppressed.replace("bücher", "BÜCHER"), punycodeSuppressed.replace("xn--bcher-kva", "bücher"))) {
            HttpResponse<String> response = post(key("strict"), Map.of("from", "app@strict.test",
                    "to", List.of(spelling), "subject", "idn", "text", "x"), Map.of());
            assertThat(read(response.body())).as(spelling).containsEntry("status", "rejected");
        }

        // Over SMTP too (SubEthaSMTP reads commands as UTF-8; the relay sends only the A-label on).
        String fine = "fine-" + System.nanoTime() + "@bücher.test";
        try (SmtpConversation smtp = authenticated()) {
            assertThat(smtp.send("MAIL FROM:<app@acme.test>")).startsWith("250");
            assertThat(smtp.send("RCPT TO:<" + punycodeSuppressed.replace("xn--bcher-kva", "bücher") + ">"))
                    .startsWith("250");
            assertThat(smtp.send("RCPT TO:<" + fine + ">")).startsWith("250");
            String id = data(smtp, "From: app@acme.test\r\nSubject: idn over smtp\r\n\r\nhi\r\n");
            assertThat(row(id).get("recipients").toString())
                    .isEqualTo("[\"" + fine.replace("bücher", "xn--bcher-kva") + "\"]");
            assertThat(rejectedRecipients(id)).containsExactly(punycodeSuppressed);
            awaitStatus(id, "SENT");
        }
        assertThat(mailboxSize(punycodeSuppressed)).as("nothing reached the upstream for it").isZero();
        assertThat(mailboxSize(fine.replace("bücher", "xn--bcher-kva"))).isEqualTo(1);
    }

    @Test
    void everySmtpSpellingOfAnUnsubscribedAddressIsRejected() {
        String local = "sam-" + System.nanoTime();
        String canonical = local + "@customer.test";
        unsubscribe("acme", canonical);
        List<String> paths = List.of(
                local.toUpperCase() + "@customer.test",
                local + "@CUSTOMER.TEST",
                "\"" + local + "\"@customer.test",
                "\"" + local.replace("s", "\\s") + "\"@Customer.test",
                // A source route: RFC 5321 says to ignore it, which leaves the mailbox.
                "@relay.example,@hop.example:" + local + "@customer.test");
        for (String path : paths) {
            try (SmtpConversation smtp = authenticated()) {
                String reply = smtp.submit("app@acme.test", path,
                        "From: app@acme.test\r\nSubject: suppressed spelling\r\n\r\nhi\r\n");
                assertThat(reply).as(path).startsWith("250 2.0.0 Ok: every recipient is suppressed");
                Matcher id = REJECTED_AS.matcher(reply);
                assertThat(id.find()).isTrue();
                assertThat(status(id.group(1))).isEqualTo("REJECTED");
                assertCanonical(rejectedRecipients(id.group(1)), canonical, path);
            }
        }
        // Next to a recipient that gets it: only that one is sent to.
        String fine = "fine-" + System.nanoTime() + "@customer.test";
        try (SmtpConversation smtp = authenticated()) {
            smtp.send("MAIL FROM:<APP@ACME.TEST>");
            assertThat(smtp.send("RCPT TO:<\"" + local + "\"@CUSTOMER.TEST>")).startsWith("250");
            assertThat(smtp.send("RCPT TO:<" + fine + ">")).startsWith("250");
            String id = data(smtp, "From: app@acme.test\r\nSubject: mixed\r\n\r\nhi\r\n");
            assertThat(row(id).get("from_addr")).isEqualTo("APP@acme.test");
            awaitStatus(id, "SENT");
            assertCanonical(rejectedRecipients(id), canonical, "mixed");
        }
        assertThat(mailboxSize(canonical)).as("nothing reached the upstream for it").isZero();
        assertThat(mailboxSize(local.toUpperCase() + "@customer.test")).isZero();
        assertThat(mailboxSize(fine)).isEqualTo(1);
    }

    @Test
    void twoSpellingsOfOneRecipientAreOneCopy() {
        String local = "twice-" + System.nanoTime();
        try (SmtpConversation smtp = authenticated()) {
            smtp.send("MAIL FROM:<app@acme.test>");
            assertThat(smtp.send("RCPT TO:<" + local + "@customer.test>")).startsWith("250");
            assertThat(smtp.send("RCPT TO:<\"" + local.toUpperCase() + "\"@CUSTOMER.test>")).startsWith("250");
            String id = data(smtp, "From: app@acme.test\r\nSubject: once\r\n\r\nhi\r\n");
            assertThat(row(id).get("recipients").toString()).isEqualTo("[\"" + local + "@customer.test\"]");
        }
        String id = submit("strict", Map.of("from", "app@strict.test", "to", List.of(local + "@customer.test"),
                "cc", List.of("Twice <" + local.toUpperCase() + "@Customer.Test>"),
                "bcc", List.of("\"" + local + "\"@customer.test"), "subject", "once", "text", "x"));
        assertThat(row(id).get("recipients").toString()).isEqualTo("[\"" + local + "@customer.test\"]");
    }

    @Test
    void aLocalPartThatNeedsItsQuotesKeepsThemWithMinimalEscapes() {
        String local = "john doe " + System.nanoTime();
        String canonical = "\"" + local + "\"@customer.test";
        String id = submit("strict", Map.of("from", "app@strict.test",
                "to", List.of("\"" + local + "\"@CUSTOMER.test"),
                "bcc", List.of("\"" + local.replace(" ", "\\ ") + "\"@customer.test"), "subject", "quoted", "text", "x"));
        assertThat(row(id).get("recipients").toString()).isEqualTo("[" + write(canonical) + "]");
        awaitStatus(id, "SENT");
        assertThat(Upstreams.scripted().deliveredTo(canonical)).hasSize(1);

        String other = "\"ann " + System.nanoTime() + " smith\"@customer.test";
        unsubscribe("strict", other);
        HttpResponse<String> response = post(key("strict"), Map.of("from", "app@strict.test",
                "to", List.of("Ann <" + other.replace("ann", "Ann").replace("smith", "S\\mith") + ">"),
                "subject", "quoted", "text", "x"), Map.of());
        assertThat(read(response.body())).as(response.body()).containsEntry("status", "rejected");
    }

    @Test
    void pathsRfc5321DoesNotAllowAre553AndStoreNothing() {
        long before = countMessages("acme");
        Map<String, String> recipients = new LinkedHashMap<>();
        recipients.put("Bob <bob@customer.test>", "no display name");
        recipients.put("bob@customer.test (Bob)", "comment");
        recipients.put("(Bob) bob@customer.test", "leading comment");
        recipients.put("bob@customer.test garbage", "trailing garbage");
        recipients.put("victim@example.org (" + "x".repeat(300) + ")", "the review's over-long comment");
        recipients.put("x".repeat(250) + "@customer.test", "over 254 characters");
        recipients.put("bob@", "missing domain");
        recipients.put("bob", "no @ at all");
        recipients.put("@customer.test", "no local part");
        recipients.put("bob..x@customer.test", "empty dot-atom");
        recipients.put("bob@customer..test", "empty label");
        recipients.put("bob@-customer.test", "label starting with a hyphen");
        recipients.put("bob@[192.0.2.1]", "address literal");
        recipients.put("bob@custo\u0000mer.test", "NUL");
        recipients.put("bøb@customer.test", "non-ASCII local part");
        recipients.put("\"bob@customer.test", "unterminated quote");
        try (SmtpConversation smtp = authenticated()) {
            assertThat(smtp.send("MAIL FROM:<app@acme.test>")).startsWith("250");
            recipients.forEach((path, why) -> assertThat(smtp.send("RCPT TO:<" + path + ">")).as(why)
                    .startsWith("553 5.1.3 Bad recipient address syntax: the path"));
            assertThat(smtp.send("RCPT TO:<Bob <bob@customer.test>>")).contains("no display name, comment or spaces");
            assertThat(smtp.send("DATA")).doesNotStartWith("354");
        }
        List<String> senders = new ArrayList<>(List.of("App <app@acme.test>", "app@acme.test (App)",
                "x".repeat(250) + "@acme.test", "app@", "app@[127.0.0.1]"));
        for (String sender : senders) {
            try (SmtpConversation smtp = authenticated()) {
                assertThat(smtp.send("MAIL FROM:<" + sender + ">")).as(sender)
                        .startsWith("553 5.1.7 Bad sender address syntax: the path");
                assertThat(smtp.send("RCPT TO:<ok@customer.test>")).as("no transaction").startsWith("503");
            }
        }
        assertThat(countMessages("acme")).isEqualTo(before);
    }

    @Test
    void restAddressesRfc5321CannotCarryAre400() {
        long before = countMessages("strict");
        List<String> invalid = List.of("Bob <bob@[192.0.2.1]>", "bob..x@customer.test", "bob@customer.test.",
                "bob@", "x".repeat(250) + "@customer.test", "bob@" + "ü".repeat(60) + ".test");
        for (String address : invalid) {
            HttpResponse<String> response = post(key("strict"), Map.of("from", "app@strict.test",
                    "to", List.of("ok@customer.test"), "bcc", List.of(address), "subject", "bad", "text", "x"), Map.of());
            assertThat(response.statusCode()).as(address).isEqualTo(400);
            assertThat(response.body()).as(address).contains("\"field\":\"bcc[0]\"");
        }
        assertThat(countMessages("strict")).isEqualTo(before);
    }

    @Test
    void theDisplayNameStaysInTheHeaderAndNeverInTheEnvelope() {
        String local = "reader-" + System.nanoTime();
        String canonical = local.toUpperCase() + "@customer.test";
        String id = submit("strict", Map.of("from", "App Team <\"app\"@STRICT.test>",
                "to", List.of("\"Reader, Dear\" <\"" + local.toUpperCase() + "\"@Customer.TEST>"),
                "subject", "names", "text", "x"));
        Map<String, Object> row = row(id);
        assertThat(row.get("from_addr")).isEqualTo("app@strict.test");
        assertThat(row.get("recipients").toString()).isEqualTo("[\"" + canonical + "\"]");
        awaitStatus(id, "SENT");
        assertThat(Upstreams.scripted().deliveredTo(canonical)).singleElement().satisfies(delivery -> {
            assertThat(delivery.from()).isEqualTo("app@strict.test");
            assertThat(new String(delivery.data(), StandardCharsets.UTF_8))
                    .contains("From: App Team <app@strict.test>")
                    .contains("To: \"Reader, Dear\" <" + canonical + ">");
        });
    }

    /** Messages the acme upstream (GreenMail) holds for an envelope recipient. */
    private static int mailboxSize(String address) {
        var upstream = Upstreams.greenMail("acme-transactional");
        var user = upstream.getUserManager().getUserByEmail(address);
        if (user == null) {
            return 0;
        }
        try {
            return upstream.getManagers().getImapHostManager().getInbox(user).getMessageCount();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * The event names the recipient in its canonical form: bare, unquoted, the domain lower-case;
     * the local part keeps the case it was given in (RFC 5321 leaves it to the receiving host).
     */
    private static void assertCanonical(List<String> recipients, String canonical, String spelling) {
        assertThat(recipients).as(spelling).singleElement().satisfies(recipient -> {
            assertThat(recipient).isEqualToIgnoringCase(canonical);
            assertThat(recipient.substring(recipient.indexOf('@'))).isEqualTo(canonical.substring(canonical.indexOf('@')));
        });
    }

    private String data(SmtpConversation smtp, String message) {
        assertThat(smtp.send("DATA")).startsWith("354");
        smtp.write(message + ".\r\n");
        String reply = smtp.readReply();
        assertThat(reply).startsWith("250 2.0.0 Ok: queued as ");
        return reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
    }

    private SmtpConversation authenticated() {
        SmtpConversation smtp = SmtpConversation.open(smtp().port());
        assertThat(smtp.login("acme", "acme-password")).startsWith("235");
        return smtp;
    }

    private com.mailrelay.ingress.smtp.SmtpIngress smtp() {
        return smtp;
    }

    private List<String> rejectedRecipients(String id) {
        return jdbc.queryForList("select recipient from events where message_id = ? and type = 'reject' order by id",
                String.class, UUID.fromString(id));
    }

    private String unsubscribe(String workspace, String email) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/api/v1/recipients/" + URLEncoder.encode(email, StandardCharsets.UTF_8).replace("+", "%20")))
                .header("Authorization", "Bearer " + key(workspace)).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"status\":\"UNSUBSCRIBED\"}")).build());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return response.body();
    }
}
