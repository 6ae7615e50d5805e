package com.mailrelay.tracking;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;

import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * RFC 8058 one-click unsubscribe: the List-Unsubscribe URL of a marketing message unsubscribes
 * its recipient on POST (once: repeated requests change nothing), never on GET; a tampered URL
 * is a 404 and changes nothing; the next message to an unsubscribed recipient is rejected.
 */
class UnsubscribeTest extends TrackingTestSupport {

    @Test
    void oneClickPostUnsubscribesAndLaterMailIsRejected() {
        String reader = "reader-" + System.nanoTime() + "@customer.test";
        String id = rowsByRecipient(accept("globex", Map.of("from", "news@globex.test", "to", List.of(reader),
                "subject", "Newsletter", "text", "News."))).get(reader);
        awaitStatus(id, "SENT");
        MimeMessage copy = delivered("globex-marketing", id);
        String header = header(copy, "List-Unsubscribe");
        assertThat(header(copy, "List-Unsubscribe-Post")).isEqualTo("List-Unsubscribe=One-Click");
        String link = header.substring(1, header.length() - 1);
        assertThat(link).matches(UNSUBSCRIBE.pattern());

        // GET (what link scanners do) shows a confirmation page and unsubscribes nobody.
        HttpResponse<String> page = visit(link, "Scanner/1");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/html");
        assertThat(page.body()).contains("<form method=\"post\"").contains(reader);
        assertThat(recipientStatus(reader)).isNotEqualTo("UNSUBSCRIBED");

        // A tampered token: 404, nothing changes.
        assertThat(postForm(tamper(link, 8), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
                .statusCode()).isEqualTo(404);
        assertThat(visit(tamper(link, 8), "Scanner/1").statusCode()).isEqualTo(404);
        assertThat(recipientStatus(reader)).isNotEqualTo("UNSUBSCRIBED");
        assertThat(eventTypes(id)).doesNotContain("unsub");

        // The one-click POST, as a mail client sends it (RFC 8058 §3.2).
        HttpResponse<String> done = postForm(link, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click");
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(recipientStatus(reader)).isEqualTo("UNSUBSCRIBED");
        assertThat(events(id, "unsub")).singleElement().satisfies(unsub ->
                assertThat(unsub).containsEntry("ip", "127.0.0.1"));

        // Again: still 200, still one unsub event, still unsubscribed.
        assertThat(postForm(link, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click").statusCode())
                .isEqualTo(200);
        assertThat(events(id, "unsub")).hasSize(1);
        assertThat(recipientStatus(reader)).isEqualTo("UNSUBSCRIBED");

        // The next message to the recipient is rejected.
        HttpResponse<String> next = post(key("globex"), Map.of("from", "news@globex.test", "to", List.of(reader),
                "subject", "Newsletter 2", "text", "More news."), Map.of());
        assertThat(read(next.body())).containsEntry("status", "rejected");
        assertThat(eventTypes((String) read(next.body()).get("id"))).containsExactly("reject");
    }

    @Test
    void theLinkOfAnOddlyWrittenAddressNamesAndUnsubscribesItsCanonicalForm() {
        String local = "odd-" + System.nanoTime();
        String canonical = local + "@customer.test";
        String id = rowsByRecipient(accept("globex", Map.of("from", "news@globex.test",
                "to", List.of("Odd <\"" + local + "\"@CUSTOMER.test>"), "subject", "Odd", "text", "x")))
                .get(canonical);
        assertThat(id).as("the copy is the canonical recipient's").isNotNull();
        String header = header(stored(id), "List-Unsubscribe");
        String link = header.substring(1, header.length() - 1);
        assertThat(postForm(link, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click").statusCode())
                .isEqualTo(200);
        assertThat(recipientStatus(canonical)).isEqualTo("UNSUBSCRIBED");
        assertThat(events(id, "unsub")).hasSize(1);
        assertThat(jdbc.queryForObject("select recipient from events where message_id = ? and type = 'unsub'",
                String.class, java.util.UUID.fromString(id))).isEqualTo(canonical);
        HttpResponse<String> next = post(key("globex"), Map.of("from", "news@globex.test",
                "to", List.of(local.toUpperCase() + "@Customer.Test"), "subject", "Odd 2", "text", "x"), Map.of());
        assertThat(read(next.body())).containsEntry("status", "rejected");
    }

    @Test
    void theConfirmationPagesFormAndMultipartBodiesUnsubscribeToo() {
        String reader = "multi-" + System.nanoTime() + "@customer.test";
        String id = rowsByRecipient(accept("globex", Map.of("from", "news@globex.test", "to", List.of(reader),
                "subject", "Digest", "html", "<p>Digest</p>"))).get(reader);
        String header = header(stored(id), "List-Unsubscribe");
        String link = header.substring(1, header.length() - 1);
        String boundary = "b0undary";
        HttpResponse<String> done = postForm(link, "multipart/form-data; boundary=" + boundary,
                "--" + boundary + "\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--"
                        + boundary + "--\r\n");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(recipientStatus(reader)).isEqualTo("UNSUBSCRIBED");
        // Other bodies on the unsubscribe path are refused before anything runs.
        assertThat(postForm(link, "application/json", "{}").statusCode()).isEqualTo(415);
    }

    @Test
    void anUnsubscribeUrlSubmitterSuppliedIsKept() {
        String reader = "own-" + System.nanoTime() + "@customer.test";
        String id = rowsByRecipient(accept("globex", Map.of("from", "news@globex.test", "to", List.of(reader),
                "subject", "Own list", "text", "x",
                "headers", Map.of("List-Unsubscribe", "<https://globex.test/unsubscribe?u=1>")))).get(reader);
        MimeMessage stored = stored(id);
        assertThat(header(stored, "List-Unsubscribe")).isEqualTo("<https://globex.test/unsubscribe?u=1>");
        assertThat(header(stored, "List-Unsubscribe-Post")).isNull();
    }

    private String recipientStatus(String email) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + port + "/api/v1/recipients/" + email))
                .header("Authorization", "Bearer " + key("globex")).GET().build());
        return response.statusCode() == 404 ? "UNKNOWN" : (String) read(response.body()).get("status");
    }
}
