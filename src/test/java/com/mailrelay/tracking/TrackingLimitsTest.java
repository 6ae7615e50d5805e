package com.mailrelay.tracking;

import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.mailrelay.tracking.TrackingTokens.Claim;
import com.mailrelay.tracking.TrackingTokens.Kind;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tracking links cannot be abused: repeats of one link within relay.tracking.repeat-window (1h)
 * are counted on its first event instead of writing more; a link past its expiry is a 410 that
 * records nothing; tokens from before expiries work until their message is
 * relay.tracking.token-lifetime (180 days) old; and nothing on these paths logs a token or an address.
 */
@ExtendWith(OutputCaptureExtension.class)
class TrackingLimitsTest extends TrackingTestSupport {

    private static final String HTML = "<html><body><p><a href=\"https://shop.test/sale\">sale</a></p></body></html>";

    @Autowired
    private TrackingTokens tokens;

    @Autowired
    private MeterRegistry meters;

    /** A marketing message (globex) with one tracked link, and its stored copy's pixel, click and unsubscribe links. */
    private record Sent(String id, String recipient, String pixel, String click, String unsubscribe) {
    }

    private Sent send(String name) {
        String recipient = name + "-" + System.nanoTime() + "@customer.test";
        Map<String, Object> accepted = accept("globex", Map.of("from", "news@globex.test", "to", List.of(recipient),
                "subject", "Sale", "html", HTML));
        String id = rowsByRecipient(accepted).get(recipient);
        String html = part(stored(id), "text/html");
        String unsubscribe = header(stored(id), "List-Unsubscribe");
        return new Sent(id, recipient, all(PIXEL, html).get(0), all(CLICK, html).get(0),
                unsubscribe.substring(1, unsubscribe.length() - 1));
    }

    @Test
    void repeatsOfALinkWithinTheWindowAreCountedOnItsFirstEvent() {
        Sent sent = send("repeat");
        double opensBefore = repeatCount("open");
        double clicksBefore = repeatCount("click");
        for (int i = 0; i < 5; i++) {
            assertThat(fetchPixel(sent.pixel()).statusCode()).isEqualTo(200);
        }
        for (int i = 0; i < 3; i++) {
            assertThat(visit(sent.click(), "Clicker/1").statusCode()).isEqualTo(302);
        }
        assertThat(events(sent.id(), "open")).hasSize(1);
        assertThat(events(sent.id(), "click")).hasSize(1);
        assertThat(repeats(sent.id(), "open")).containsExactly(4);
        assertThat(repeats(sent.id(), "click")).containsExactly(2);
        assertThat(repeatCount("open") - opensBefore).isEqualTo(4);
        assertThat(repeatCount("click") - clicksBefore).isEqualTo(2);

        // Once the window has passed since the last event, the next open is an event again.
        jdbc.update("update events set created_at = created_at - interval '2' hour where message_id = ?",
                UUID.fromString(sent.id()));
        assertThat(fetchPixel(sent.pixel()).statusCode()).isEqualTo(200);
        assertThat(fetchPixel(sent.pixel()).statusCode()).isEqualTo(200);
        assertThat(repeats(sent.id(), "open")).containsExactly(4, 1);
        assertThat(events(sent.id(), "click")).hasSize(1);
    }

    @Test
    void tokensCarryTheirExpiryAndAnExpiredLinkRecordsNothing() {
        Sent sent = send("expiry");
        // Minted now: the expiry inside is 180 days on.
        Instant expires = expiry(sent.click());
        assertThat(Duration.between(Instant.now(), expires)).isBetween(Duration.ofDays(180).minusMinutes(5),
                Duration.ofDays(180).plusMinutes(1));

        UUID message = UUID.fromString(sent.id());
        Instant past = Instant.now().minusSeconds(60);
        String click = BASE + "/t/c/" + tokens.issue(new Claim(Kind.CLICK, message, sent.recipient(), "https://shop.test/sale", past));
        String pixel = BASE + "/t/o/" + tokens.issue(new Claim(Kind.OPEN, message, sent.recipient(), null, past)) + ".gif";
        String unsubscribe = BASE + "/u/" + tokens.issue(new Claim(Kind.UNSUBSCRIBE, message, sent.recipient(), null, past));

        HttpResponse<String> expiredClick = visit(click, "Clicker/1");
        assertThat(expiredClick.statusCode()).isEqualTo(410);
        assertThat(expiredClick.headers().firstValue("Location")).isEmpty();
        assertThat(expiredClick.body()).contains("This link has expired").doesNotContain("shop.test")
                .doesNotContain(sent.recipient());
        assertThat(visit(pixel, "Pixel/1").statusCode()).isEqualTo(410);
        assertThat(visit(unsubscribe, "Browser/1").statusCode()).isEqualTo(410);
        assertThat(postForm(unsubscribe, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
                .statusCode()).isEqualTo(410);
        assertThat(eventTypes(sent.id())).doesNotContain("open", "click", "unsub");
        assertThat(get(key("globex"), "/api/v1/recipients/" + sent.recipient()).body()).doesNotContain("UNSUBSCRIBED");

        // The links in the message itself still work.
        assertThat(visit(sent.click(), "Clicker/1").statusCode()).isEqualTo(302);
        assertThat(events(sent.id(), "click")).hasSize(1);
    }

    @Test
    void tokensFromBeforeExpiriesWorkUntilTheirMessageIsTokenLifetimeOld() {
        Sent sent = send("legacy");
        UUID message = UUID.fromString(sent.id());
        String click = BASE + "/t/c/" + legacyToken('c', message, sent.recipient(), "https://shop.test/old");
        String pixel = BASE + "/t/o/" + legacyToken('o', message, sent.recipient(), "") + ".gif";

        HttpResponse<String> redirect = visit(click, "Clicker/1");
        assertThat(redirect.statusCode()).isEqualTo(302);
        assertThat(redirect.headers().firstValue("Location")).hasValue("https://shop.test/old");
        assertThat(fetchPixel(pixel).statusCode()).isEqualTo(200);
        assertThat(events(sent.id(), "click")).hasSize(1);
        assertThat(events(sent.id(), "open")).hasSize(1);

        // 181 days after the message was accepted, they are expired; the new tokens carry their own expiry.
        jdbc.update("update messages set queued_at = queued_at - interval '181' day where id = ?", message);
        assertThat(visit(click, "Clicker/1").statusCode()).isEqualTo(410);
        assertThat(visit(pixel, "Pixel/1").statusCode()).isEqualTo(410);
        assertThat(events(sent.id(), "click")).hasSize(1);
        assertThat(repeats(sent.id(), "click")).containsExactly(0);
        assertThat(visit(sent.click(), "Clicker/1").statusCode()).isEqualTo(302);
    }

    @Test
    void theTrackingPathsLogNoTokenAndNoAddress(CapturedOutput output) {
        Sent sent = send("quiet");
        awaitStatus(sent.id(), "SENT");
        int from = output.getOut().length();

        fetchPixel(sent.pixel());
        visit(sent.click(), "Clicker/1");
        visit(sent.unsubscribe(), "Browser/1");
        assertThat(postForm(sent.unsubscribe(), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
                .statusCode()).isEqualTo(200);
        String forged = tamper(sent.click(), 3);
        assertThat(visit(forged, "Forger/1").statusCode()).isEqualTo(404);
        String expired = BASE + "/t/c/" + tokens.issue(new Claim(Kind.CLICK, UUID.fromString(sent.id()),
                sent.recipient(), "https://shop.test/sale", Instant.now().minusSeconds(1)));
        assertThat(visit(expired, "Clicker/1").statusCode()).isEqualTo(410);
        assertThat(eventTypes(sent.id())).contains("open", "click", "unsub");

        // The relay's own lines (the test upstream, GreenMail, logs addresses of its own).
        List<String> lines = Arrays.stream(output.getOut().substring(from).split("\n"))
                .filter(line -> !line.contains("c.icegreen.greenmail")).toList();
        assertThat(lines).anyMatch(line -> line.contains("answered 404"))
                .anyMatch(line -> line.contains("answered 410"))
                .anyMatch(line -> line.contains("unsubscribed from workspace globex"));
        for (String link : List.of(sent.pixel(), sent.click(), sent.unsubscribe(), forged, expired)) {
            String token = link.substring(link.lastIndexOf('/') + 1).replace(".gif", "");
            assertThat(lines).noneMatch(line -> line.contains(token.substring(0, 16)));
        }
        assertThat(lines).noneMatch(line -> line.contains(sent.recipient()));
    }

    private double repeatCount(String type) {
        Counter counter = meters.find("relay.tracking.repeats").tag("type", type).counter();
        return counter == null ? 0 : counter.count();
    }

    /** The expiry inside a token we issued (kind byte, then four bytes of epoch seconds). */
    private static Instant expiry(String link) {
        String token = link.substring(link.lastIndexOf('/') + 1);
        byte[] payload = Base64.getUrlDecoder().decode(token.substring(0, token.indexOf('.')));
        assertThat((char) payload[0]).isEqualTo('C');
        return Instant.ofEpochSecond(Integer.toUnsignedLong(ByteBuffer.wrap(payload, 1, 4).getInt()));
    }

    /** A token as the relay minted them before tokens had an expiry: lower-case kind, no expiry field. */
    private static String legacyToken(char kind, UUID message, String recipient, String url) {
        byte[] address = recipient.getBytes(StandardCharsets.UTF_8);
        byte[] target = url.getBytes(StandardCharsets.UTF_8);
        ByteBuffer payload = ByteBuffer.allocate(1 + 16 + 2 + address.length + target.length);
        payload.put((byte) kind).putLong(message.getMostSignificantBits()).putLong(message.getLeastSignificantBits())
                .putShort((short) address.length).put(address).put(target);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec("test-tracking-secret".getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] signature = Arrays.copyOf(mac.doFinal(payload.array()), 16);
            Base64.Encoder encoder = Base64.getUrlEncoder().withoutPadding();
            return encoder.encodeToString(payload.array()) + "." + encoder.encodeToString(signature);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
