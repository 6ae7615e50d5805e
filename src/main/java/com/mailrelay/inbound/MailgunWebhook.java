package com.mailrelay.inbound;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.events.EventType;
import org.springframework.stereotype.Component;

import static com.mailrelay.inbound.InboundJson.putPresent;
import static com.mailrelay.inbound.InboundJson.text;

/**
 * Mailgun's event webhook (JSON): {@code {"signature": {timestamp, token, signature}, "event-data": {...}}}.
 * The signature is the hex HMAC-SHA256 of timestamp followed by token, under the webhook signing
 * key; the token is random per request, so one seen before is a replay (checked when recorded).
 */
@Component
public class MailgunWebhook {

    private static final int MAX_TOKEN_LENGTH = 128;

    private final ObjectMapper json;
    private final InboundSigningKeys keys;
    private final SignatureWindow window;

    public MailgunWebhook(ObjectMapper json, InboundSigningKeys keys, SignatureWindow window) {
        this.json = json;
        this.keys = keys;
        this.window = window;
    }

    public InboundBatch verify(String workspace, byte[] body) {
        byte[] key = keys.mailgun(workspace);
        JsonNode root = InboundJson.parse(json, body);
        String timestamp = text(root, "signature", "timestamp");
        String token = text(root, "signature", "token");
        String signature = text(root, "signature", "signature");
        if (timestamp == null || token == null || signature == null) {
            throw new InvalidSignatureException("missing signature: Mailgun posts signature.timestamp, "
                    + "signature.token and signature.signature");
        }
        if (token.length() > MAX_TOKEN_LENGTH) {
            throw new InvalidSignatureException("the signature token is longer than " + MAX_TOKEN_LENGTH);
        }
        byte[] expected = HexFormat.of().formatHex(hmacSha256(key, timestamp + token))
                .getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, signature.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII))) {
            throw new InvalidSignatureException("the signature does not match the workspace's Mailgun signing key");
        }
        Instant signedAt = window.check(timestamp);
        JsonNode data = root.get("event-data");
        if (data == null || !data.isObject()) {
            throw InboundJson.invalid("event-data", "must be an object");
        }
        return new InboundBatch(InboundProvider.MAILGUN, workspace, token, signedAt, List.of(event(data)));
    }

    /**
     * failed/permanent is a hard bounce — unless Mailgun gave up retrying ("old": a soft bounce) or did
     * not send because of its own suppression list ("suppress-*": a reject); failed/temporary is a deferral.
     */
    static EventType type(String event, String severity, String reason) {
        if (event == null) {
            return null;
        }
        return switch (event) {
            case "failed" -> {
                if (!"permanent".equals(severity)) {
                    yield EventType.DEFERRAL;
                }
                if ("old".equals(reason)) {
                    yield EventType.SOFT_BOUNCE;
                }
                yield reason != null && reason.startsWith("suppress-") ? EventType.REJECT : EventType.HARD_BOUNCE;
            }
            case "complained" -> EventType.SPAM;
            case "unsubscribed" -> EventType.UNSUB;
            case "opened" -> EventType.OPEN;
            case "clicked" -> EventType.CLICK;
            default -> null;   // accepted, delivered, stored...: the relay's own send event covers them
        };
    }

    private static InboundEvent event(JsonNode data) {
        String event = text(data, "event");
        String reason = text(data, "reason");
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("provider", InboundProvider.MAILGUN.id());
        detail.put("provider_event", event);
        String reply = firstPresent(text(data, "delivery-status", "description"),
                text(data, "delivery-status", "message"), reason);
        putPresent(detail, "reply", reply);
        putPresent(detail, "code", text(data, "delivery-status", "code"));
        putPresent(detail, "severity", text(data, "severity"));
        putPresent(detail, "ip", text(data, "ip"));
        putPresent(detail, "user_agent", text(data, "client-info", "user-agent"));
        putPresent(detail, "url", text(data, "url"));
        putPresent(detail, "occurred_at", InboundJson.epochSeconds(data, "timestamp"));
        String id = text(data, "id");
        // Mailgun's event ids are unique within a day only; with the event's timestamp they are unique.
        String key = id == null ? null : id + "@" + text(data, "timestamp");
        return new InboundEvent(key, type(event, text(data, "severity"), reason), event, text(data, "recipient"),
                text(data, "user-variables", InboundMessages.RELAY_MESSAGE_ID),
                text(data, "message", "headers", "message-id"), detail);
    }

    static byte[] hmacSha256(byte[] key, String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
        }
    }

    private static String firstPresent(String... values) {
        for (String value : values) {
            if (value != null) {
                return value;
            }
        }
        return null;
    }
}
