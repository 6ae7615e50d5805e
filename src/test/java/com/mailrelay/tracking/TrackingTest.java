package com.mailrelay.tracking;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import jakarta.mail.internet.MimeMessage;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Marketing HTML gets an open pixel and click-tracking links per recipient; following them
 * records events; a link that is not exactly one we signed is a 404 that records nothing, and the
 * redirect target is only ever the one inside the token. Transactional mail is left as it is.
 */
class TrackingTest extends TrackingTestSupport {

    private static final String HTML = """
            <html><head><title>Offer</title></head>
            <body>
            <p>Hello, see <a href="https://shop.test/offer?a=1&amp;b=2">our offer</a>
            and <A HREF='http://shop.test/plain'>this</A>.</p>
            <p><a href="mailto:help@globex.test">mail us</a> <a href="#top">top</a> <a href="tel:+1555">call</a></p>
            <!-- <a href="https://shop.test/commented-out">hidden</a> -->
            </body>
            </html>
            """;

    @Test
    void marketingLinksAreRewrittenAndClicksRedirectToTheOriginalUrl() {
        String alice = "alice-" + System.nanoTime() + "@customer.test";
        String bob = "bob-" + System.nanoTime() + "@customer.test";
        // globex's default type is marketing: tracking and unsubscribe headers are on by default.
        Map<String, Object> accepted = accept("globex", Map.of("from", "news@globex.test", "to", List.of(alice, bob),
                "subject", "Autumn offer", "html", HTML, "text", "Offer: https://shop.test/offer"));
        Map<String, String> rows = rowsByRecipient(accepted);
        assertThat(rows).containsOnlyKeys(alice, bob);
        assertThat(accepted.get("id")).isEqualTo(rows.get(alice));
        String id = rows.get(alice);
        awaitStatus(id, "SENT");
        awaitStatus(rows.get(bob), "SENT");
        assertThat(row(id).get("recipients").toString()).contains(alice).doesNotContain(bob);

        MimeMessage copy = delivered("globex-marketing", id);
        String html = part(copy, "text/html");
        assertThat(html).doesNotContain("href=\"https://shop.test/offer").doesNotContain("HREF='http://shop.test/plain'")
                .contains("href=\"mailto:help@globex.test\"").contains("href=\"#top\"").contains("href=\"tel:+1555\"")
                .contains("<!-- <a href=\"https://shop.test/commented-out\">hidden</a> -->")
                .contains("<title>Offer</title>");
        List<String> clicks = all(CLICK, html);
        assertThat(clicks).hasSize(2);
        List<String> pixels = all(PIXEL, html);
        assertThat(pixels).hasSize(1);
        assertThat(html.indexOf(pixels.get(0))).isLessThan(html.indexOf("</body>"));
        assertThat(part(copy, "text/plain")).isEqualTo("Offer: https://shop.test/offer");
        assertThat(header(copy, "List-Unsubscribe")).matches("<" + UNSUBSCRIBE.pattern() + ">");
        assertThat(header(copy, "List-Unsubscribe-Post")).isEqualTo("List-Unsubscribe=One-Click");
        // Bob's copy has links of its own.
        String bobsHtml = part(delivered("globex-marketing", rows.get(bob)), "text/html");
        assertThat(all(CLICK, bobsHtml)).hasSize(2).doesNotContainAnyElementsOf(clicks);

        // The pixel: a 1×1 GIF that no cache keeps; the first fetch writes an open event, the repeat
        // within relay.tracking.repeat-window is counted on it.
        for (int i = 0; i < 2; i++) {
            HttpResponse<byte[]> gif = fetchPixel(pixels.get(0));
            assertThat(gif.statusCode()).isEqualTo(200);
            assertThat(gif.headers().firstValue("Content-Type")).hasValue("image/gif");
            assertThat(new String(gif.body(), 0, 6, StandardCharsets.US_ASCII)).isEqualTo("GIF89a");
            assertThat(gif.body()).hasSize(43);
            assertThat(gif.headers().firstValue("Cache-Control")).hasValue("no-store, no-cache, must-revalidate, max-age=0");
            assertThat(gif.headers().firstValue("Pragma")).hasValue("no-cache");
            assertThat(gif.headers().firstValue("Expires")).hasValue("0");
        }
        assertThat(events(id, "open")).singleElement().satisfies(open -> assertThat(open)
                .containsEntry("ip", "127.0.0.1").containsEntry("user_agent", "PixelFetcher/2"));
        assertThat(repeats(id, "open")).containsExactly(1);
        assertThat(events(rows.get(bob), "open")).isEmpty();

        // A click: 302 to the original URL (entities decoded), a click event with url, ip and user agent.
        String offer = clicks.get(0);
        HttpResponse<String> redirect = visit(offer, "Clicker/1.0");
        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(redirect.headers().firstValue("Location")).hasValue("https://shop.test/offer?a=1&b=2");
        assertThat(events(id, "click")).singleElement().satisfies(click -> assertThat(click)
                .containsEntry("url", "https://shop.test/offer?a=1&b=2").containsEntry("ip", "127.0.0.1")
                .containsEntry("user_agent", "Clicker/1.0"));
        assertThat(visit(clicks.get(1), "Clicker/1.0").headers().firstValue("Location")).hasValue("http://shop.test/plain");

        // ?url= is never trusted: the target is the token's (and this second click of the first link
        // is a repeat, counted on its event).
        HttpResponse<String> evil = visit(offer + "?url=https://evil.test/", "Clicker/1.0");
        assertThat(evil.statusCode()).isEqualTo(302);
        assertThat(evil.headers().firstValue("Location")).hasValue("https://shop.test/offer?a=1&b=2");
        assertThat(events(id, "click")).hasSize(2);
        assertThat(repeats(id, "click")).containsExactly(1, 0);

        // One character changed — in the payload, in the signature, in its last (partly unused) character —
        // or a token of another kind: 404, and no event.
        String token = offer.substring(offer.lastIndexOf('/') + 1);
        int dot = token.indexOf('.');
        for (String forged : List.of(tamper(offer, token.length() - 5), tamper(offer, token.length() - dot - 3),
                tamper(offer, 1), offer + "x", offer.replace("/t/c/", "/t/o/") + ".gif",
                pixels.get(0).replace("/t/o/", "/t/c/").replace(".gif", ""))) {
            assertThat(visit(forged, "Forger/1").statusCode()).as(forged).isEqualTo(404);
        }
        assertThat(visit(tamper(pixels.get(0), 10), "Forger/1").statusCode()).isEqualTo(404);
        assertThat(visit(BASE + "/t/c/not-a-token", "Forger/1").statusCode()).isEqualTo(404);
        assertThat(events(id, "click")).hasSize(2);
        assertThat(events(id, "open")).hasSize(1);
        assertThat(repeats(id, "click")).containsExactly(1, 0);
        assertThat(eventTypes(id)).doesNotContain("unsub");
    }

    @Test
    void transactionalMailIsStoredAsSubmittedWithoutTracking() {
        String to1 = "t1-" + System.nanoTime() + "@customer.test";
        String to2 = "t2-" + System.nanoTime() + "@customer.test";
        Map<String, Object> accepted = accept("acme", Map.of("from", "app@acme.test", "to", List.of(to1, to2),
                "subject", "Receipt", "html", HTML));
        assertThat(accepted).containsOnlyKeys("id", "status");
        String id = (String) accepted.get("id");
        String stored = new String((byte[]) row(id).get("raw_mime"), StandardCharsets.UTF_8);
        assertThat(stored).doesNotContain("relay.test").doesNotContain("List-Unsubscribe");
        assertThat(part(stored(id), "text/html")).contains("href=\"https://shop.test/offer?a=1&amp;b=2\"")
                .doesNotContain("<img");
        assertThat(row(id).get("recipients").toString()).contains(to1).contains(to2);
        assertThat(row(id).get("batch_id")).isNull();
    }

    @Test
    void anIdempotentRetryOfAPersonalisedSubmissionListsTheSameRows() {
        String key = "split-" + System.nanoTime();
        Map<String, Object> request = Map.of("from", "news@globex.test", "subject", "Twice",
                "to", List.of("r1-" + key + "@customer.test", "r2-" + key + "@customer.test"), "html", "<p>x</p>");
        HttpResponse<String> first = post(key("globex"), request, Map.of("Idempotency-Key", key));
        HttpResponse<String> retry = post(key("globex"), request, Map.of("Idempotency-Key", key));
        assertThat(first.statusCode()).isEqualTo(202);
        assertThat(retry.statusCode()).isEqualTo(202);
        // The same rows (their statuses may have moved on meanwhile).
        assertThat(read(retry.body()).get("id")).isEqualTo(read(first.body()).get("id"));
        assertThat(rowsByRecipient(read(retry.body()))).isEqualTo(rowsByRecipient(read(first.body()))).hasSize(2);
        assertThat(jdbc.queryForObject("select count(*) from messages where batch_id = ?", Long.class,
                java.util.UUID.fromString((String) read(first.body()).get("id")))).isEqualTo(2);
    }

    @Test
    void typesFollowTheWorkspaceSettings() {
        // newsroom tracks clicks of notifications, but opens and unsubscribe headers only for marketing.
        String to = "n-" + System.nanoTime() + "@customer.test";
        Map<String, Object> accepted = accept("newsroom", Map.of("from", "app@newsroom.test", "to", List.of(to),
                "type", "notification", "subject", "Your report",
                "html", "<p><a href=\"https://reports.test/1\">report</a> {{TRACKING_PIXEL}}"
                        + " <a href=\"{{UNSUBSCRIBE_URL}}\">unsubscribe</a></p>"));
        String id = rowsByRecipient(accepted).get(to);
        MimeMessage stored = stored(id);
        String html = part(stored, "text/html");
        assertThat(all(CLICK, html)).hasSize(1);
        assertThat(all(PIXEL, html)).isEmpty();
        assertThat(all(UNSUBSCRIBE, html)).as("the unsubscribe link itself is not wrapped").hasSize(1);
        assertThat(html).doesNotContain("{{");
        assertThat(header(stored, "List-Unsubscribe")).isNull();
    }
}
