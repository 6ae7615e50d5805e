package com.mailrelay.flow;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Input the store cannot hold, or that is larger than a submission may carry, is refused before
 * the accept with a 400 naming the field (REST) or a 550 5.6.0 naming the header (SMTP), and
 * nothing is stored: a NUL or another C0 control in any field, any value over its column's
 * length, metadata, tags and variables over relay.limits. A NUL subject used to be a 503 / 451
 * forever on PostgreSQL.
 */
class InputRefusalTest extends RelayTestSupport {

    private static final String NUL = "\u0000";
    private static final String BEL = "\u0007";
    private static final String ESC = "\u001b";
    private static final String RCPT = "ok@customer.test";

    @Test
    void controlCharactersInEveryRestFieldAre400NamingTheField() {
        for (String control : List.of(NUL, BEL, ESC)) {
            refused("subject", body -> body.put("subject", "a" + control + "b"));
            refused("headers.X-Note", body -> body.put("headers", Map.of("X-Note", "a" + control)));
            refused("from", body -> body.put("from", "app" + control + "@strict.test"));
            refused("to[1]", body -> body.put("to", List.of(RCPT, "b" + control + "@customer.test")));
            refused("cc[0]", body -> body.put("cc", List.of("Bob" + control + " <bob@customer.test>")));
            refused("bcc[0]", body -> body.put("bcc", List.of("bob@customer" + control + ".test")));
            refused("reply_to", body -> body.put("reply_to", "r" + control + "@customer.test"));
            refused("tags[0]", body -> body.put("tags", List.of("t" + control)));
            refused("metadata", body -> body.put("metadata", Map.of("k" + control, "v")));
            refused("metadata.k", body -> body.put("metadata", Map.of("k", "v" + control)));
            refused("metadata.k.inner[0]", body -> body.put("metadata", Map.of("k", Map.of("inner", List.of(control)))));
            refused("variables.NAME", body -> body.put("variables", Map.of("NAME", "v" + control)));
            refused("recipient_variables." + RCPT + ".NAME",
                    body -> body.put("recipient_variables", Map.of(RCPT, Map.of("NAME", control))));
            refused("attachments[0].filename", body -> body.put("attachments", List.of(Map.of(
                    "filename", "a" + control + ".txt", "content", "aGk="))));
            refused("attachments[0].content_type", body -> body.put("attachments", List.of(Map.of(
                    "filename", "a.txt", "content_type", "text/plain; x=" + control, "content", "aGk="))));
            refused("campaign_id", body -> body.put("campaign_id", "c" + control));
            refused("user_id", body -> body.put("user_id", "u" + control));
        }
    }

    @Test
    void aNulSubjectOverRestIsA400AndNeverA503() {
        long before = countMessages("strict");
        HttpResponse<String> response = post(key("strict"), Map.of("from", "app@strict.test", "to", List.of(RCPT),
                "subject", "a\u0000b", "text", "x"), Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        assertThat(read(response.body()).get("errors").toString())
                .contains("field=subject").contains("control characters (found U+0000)");
        assertThat(countMessages("strict")).isEqualTo(before);
    }

    @Test
    void controlCharactersInSmtpHeadersAre550NamingTheHeader() {
        assertSmtpRefused("Subject: a" + NUL + "b\r\n", "550 5.6.0 Header subject contains a control character (U+0000)");
        assertSmtpRefused("Subject: =?UTF-8?B?AA==?=\r\n",
                "550 5.6.0 Header Subject contains a control character (U+0000) once decoded");
        assertSmtpRefused("Subject: =?UTF-8?Q?a=07b?=\r\n",
                "550 5.6.0 Header Subject contains a control character (U+0007) once decoded");
        assertSmtpRefused("X-Note: a" + BEL + "b\r\n", "550 5.6.0 Header x-note contains a control character (U+0007)");
        assertSmtpRefused("X-MC-Tags: one, t" + NUL + "\r\n", "550 5.6.0 Header x-mc-tags contains a control character");
        assertSmtpRefused("X-MC-Metadata: {\"k\": \"v\\u0000\"}\r\n",
                "550 5.6.0 X-MC-Metadata.k must not contain control characters (found U+0000)");
        assertSmtpRefused("X-MC-Metadata: {\"k\\u001b\": \"v\"}\r\n",
                "550 5.6.0 X-MC-Metadata has a key with a control character (U+001B)");
        assertSmtpRefused("X-MC-MergeVars: {\"NAME\": \"\\u0000\"}\r\n",
                "550 5.6.0 X-MC-MergeVars values must not contain control characters (found U+0000)");
        assertSmtpRefused("X-MC-MergeVars: {\"NA\\u0007ME\": \"v\"}\r\n",
                "550 5.6.0 X-MC-MergeVars names must not contain control characters (found U+0007)");
        assertSmtpRefused("X-MC-Metadata: {\"k\": \"v\"}\r\nX-MC-Tags: a" + ESC + "\r\n",
                "550 5.6.0 Header x-mc-tags contains a control character (U+001B)");
    }

    @Test
    void everyColumnLengthIsCheckedBeforeTheAccept() {
        refused("subject", body -> body.put("subject", "s".repeat(999)));
        refused("campaign_id", body -> body.put("campaign_id", "c".repeat(256)));
        refused("user_id", body -> body.put("user_id", "u".repeat(256)));
        refused("from", body -> body.put("from", "f".repeat(245) + "@strict.test"));
        refused("to[0]", body -> body.put("to", List.of("t".repeat(241) + "@customer.test")));
        refused("headers.X-Long", body -> body.put("headers", Map.of("X-Long", "h".repeat(999))));
        refused("attachments[0].filename", body -> body.put("attachments", List.of(Map.of(
                "filename", "f".repeat(256), "content", "aGk="))));
        // The Idempotency-Key column holds 255 characters.
        long before = countMessages("strict");
        HttpResponse<String> key = post(key("strict"), base(), Map.of("Idempotency-Key", "k".repeat(256)));
        assertThat(key.statusCode()).isEqualTo(400);
        assertThat(key.body()).contains("Idempotency-Key");
        assertThat(countMessages("strict")).isEqualTo(before);
        // The recipient list's names hold 255 characters, its reason any text but no NUL.
        assertThat(putRecipient("names-" + System.nanoTime() + "@customer.test",
                "{\"first_name\": \"" + "n".repeat(256) + "\"}").statusCode()).isEqualTo(400);
        assertThat(putRecipient("nul-" + System.nanoTime() + "@customer.test",
                "{\"status\": \"UNSUBSCRIBED\", \"reason\": \"a\\u0000b\"}").body()).contains("\"field\":\"reason\"");
    }

    @Test
    void overLongValuesThatFitAfterwardsAreKeptWithinTheirColumns() {
        // An SMTP subject longer than the column: the column keeps 998 characters, the MIME all of it.
        String subject = "word ".repeat(300).trim();
        String reply = smtpData("Subject: " + subject.replace(" word", "\r\n word") + "\r\n");
        assertThat(reply).startsWith("250 2.0.0 Ok: queued as");
        String id = reply.substring("250 2.0.0 Ok: queued as ".length()).trim();
        assertThat(row(id).get("subject").toString()).hasSize(998);
        // Cut before a character that would not fit whole (a surrogate pair at 997-998).
        String emoji = smtpData("Subject: " + "a".repeat(496) + "\r\n " + "a".repeat(500) + "\uD83D\uDE00 tail\r\n");
        assertThat(emoji).startsWith("250 2.0.0 Ok: queued as");
        String cut = row(emoji.substring("250 2.0.0 Ok: queued as ".length()).trim()).get("subject").toString();
        assertThat(cut).hasSize(997).endsWith("a");
        // A subject that variables make longer than 998 characters (personalised copy).
        String personalised = submit("globex", Map.of("from", "news@globex.test", "to", List.of(RCPT),
                "subject", "{{A}} {{A}}", "text", "x", "variables", Map.of("A", "a".repeat(600))));
        assertThat(row(personalised).get("subject").toString()).hasSize(998);
    }

    @Test
    void metadataTagsAndVariablesAreCapped() {
        refused("metadata", body -> body.put("metadata", Map.of("m", "x".repeat(1020))), "relay.limits.metadata-bytes");
        accepted(body -> body.put("metadata", Map.of("m", "x".repeat(1000))));
        List<String> tags = new ArrayList<>();
        for (int i = 0; i < 21; i++) {
            tags.add("tag" + i);
        }
        refused("tags", body -> body.put("tags", tags), "relay.limits.tags");
        accepted(body -> body.put("tags", tags.subList(0, 20)));
        refused("tags[0]", body -> body.put("tags", List.of("t".repeat(101))), "1 to 100 printable characters");
        Map<String, Object> many = new HashMap<>();
        for (int i = 0; i < 101; i++) {
            many.put("V" + i, "v");
        }
        refused("variables", body -> body.put("variables", many), "relay.limits.variables");
        refused("recipient_variables." + RCPT, body -> body.put("recipient_variables", Map.of(RCPT, many)),
                "relay.limits.variables");
        refused("variables", body -> body.put("variables", Map.of("A", "a".repeat(60_000), "B", "b".repeat(60_000))),
                "relay.limits.variables-bytes");
        String other = "other@customer.test";
        refused("recipient_variables", body -> {
            body.put("to", List.of(RCPT, other));
            body.put("recipient_variables", Map.of(RCPT, Map.of("A", "a".repeat(60_000)),
                    other, Map.of("A", "a".repeat(60_000))));
        }, "relay.limits.variables-bytes");
    }

    @Test
    void smtpMetadataTagsAndMergeVarsAreCapped() {
        assertSmtpRefused("X-MC-Metadata: {\"m\": \"" + "x".repeat(990) + "\",\r\n \"n\": \"" + "y".repeat(100) + "\"}\r\n",
                "550 5.6.0 X-MC-Metadata is 1105 bytes of JSON, over the limit of 1024 (relay.limits.metadata-bytes)");
        StringBuilder tags = new StringBuilder("X-MC-Tags: t0");
        for (int i = 1; i < 21; i++) {
            tags.append(", t").append(i);
        }
        assertSmtpRefused(tags + "\r\n", "550 5.6.0 X-MC-Tags: at most 20 tags per message");
        assertSmtpRefused("X-MC-Tags: " + "t".repeat(101) + "\r\n",
                "550 5.6.0 X-MC-Tags: each tag must be 1 to 100 printable characters");
        StringBuilder vars = new StringBuilder("X-MC-MergeVars: {\"V0\": 0");
        for (int i = 1; i < 101; i++) {
            vars.append(",\r\n \"V").append(i).append("\": ").append(i);
        }
        assertSmtpRefused(vars + "}\r\n", "550 5.6.0 X-MC-MergeVars: at most 100 variables");
        StringBuilder big = new StringBuilder();
        for (String rcpt : List.of(RCPT, "Other@Customer.test")) {
            big.append("X-MC-MergeVars: {\"_rcpt\": \"").append(rcpt).append('"');
            for (int i = 0; i < 60; i++) {
                big.append(",\r\n \"V").append(i).append("\": \"").append("v".repeat(950)).append('"');
            }
            big.append("}\r\n");
        }
        assertSmtpRefused(big.toString(), "550 5.6.0 X-MC-MergeVars: variables take");
    }

    @Test
    void atMostFiftyProblemsAreListedThenANote() {
        List<String> junk = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            junk.add("junk " + i);
        }
        long before = countMessages("strict");
        HttpResponse<String> response = post(key("strict"), Map.of("from", "app@strict.test", "to", junk,
                "subject", "s", "text", "x"), Map.of());
        assertThat(response.statusCode()).isEqualTo(400);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> errors = (List<Map<String, Object>>) read(response.body()).get("errors");
        assertThat(errors).hasSize(51);
        assertThat(errors.get(0)).containsEntry("field", "to[0]");
        assertThat(errors.get(50)).containsEntry("field", "errors");
        assertThat(errors.get(50).get("message").toString())
                .startsWith("4950 more problems were found; only the first 50 are listed");
        assertThat(countMessages("strict")).isEqualTo(before);
    }

    private static Map<String, Object> base() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("from", "app@strict.test");
        body.put("to", List.of(RCPT));
        body.put("subject", "input");
        body.put("text", "x");
        return body;
    }

    private void refused(String field, Consumer<Map<String, Object>> change) {
        refused(field, change, null);
    }

    /** The request, changed, is a 400 whose errors name the field (and say {@code words}); nothing is stored. */
    private void refused(String field, Consumer<Map<String, Object>> change, String words) {
        Map<String, Object> body = base();
        change.accept(body);
        long before = countMessages("strict");
        HttpResponse<String> response = post(key("strict"), body, Map.of());
        assertThat(response.statusCode()).as(field + ": " + response.body()).isEqualTo(400);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> errors = (List<Map<String, Object>>) read(response.body()).get("errors");
        assertThat(errors).as(response.body()).anySatisfy(error -> {
            assertThat(error.get("field")).isEqualTo(field);
            if (words != null) {
                assertThat(error.get("message").toString()).contains(words);
            }
        });
        assertThat(countMessages("strict")).as("nothing stored").isEqualTo(before);
    }

    private void accepted(Consumer<Map<String, Object>> change) {
        Map<String, Object> body = base();
        change.accept(body);
        submit("strict", body);
    }

    /** One authenticated transaction whose DATA starts with these header lines; the reply to DATA. */
    private String smtpData(String headers) {
        try (SmtpConversation smtp = SmtpConversation.open(this.smtp.port())) {
            assertThat(smtp.login("acme", "acme-password")).startsWith("235");
            return smtp.submit("app@acme.test", RCPT, "From: app@acme.test\r\n" + headers + "\r\nbody\r\n");
        }
    }

    private void assertSmtpRefused(String headers, String reply) {
        long before = countMessages("acme");
        assertThat(smtpData(headers)).startsWith(reply);
        assertThat(countMessages("acme")).as("nothing stored").isEqualTo(before);
    }

    private HttpResponse<String> putRecipient(String email, String body) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/recipients/" + email))
                .header("Authorization", "Bearer " + key("strict")).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body)).build());
    }
}
