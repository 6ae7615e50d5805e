package com.mailrelay.inbound;

import java.io.IOException;
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

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.EventType;
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
        Map<String, String> signed = signatureFields(body);
        String timestamp = signed.get("timestamp");
        String token = signed.get("token");
        String signature = signed.get("signature");
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
        // Only a signed request is worth a tree.
        JsonNode data = InboundJson.parse(json, body).get("event-data");
        if (data == null || !data.isObject()) {
            throw InboundJson.invalid("event-data", "must be an object");
        }
        return new InboundBatch(InboundProvider.MAILGUN, workspace, token, signedAt, List.of(event(data)));
    }

    /**
     * The scalar fields of the top-level {@code signature} object, read by streaming over the body:
     * everything else (event-data above all) is skipped without being built, so an unsigned request
     * costs no tree. The body itself is bounded by relay.inbound.max-body-size before it gets here.
     */
    private Map<String, String> signatureFields(byte[] body) {
        if (body == null || body.length == 0) {
            throw InboundJson.invalid("body", "is empty; the provider posts a JSON document");
        }
        Map<String, String> fields = new LinkedHashMap<>();
        try (JsonParser parser = json.getFactory().createParser(body)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw InboundJson.invalid("body", "must be a JSON object");
            }
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String name = parser.currentName();
                JsonToken value = parser.nextToken();
                if ("signature".equals(name) && value == JsonToken.START_OBJECT) {
                    while (parser.nextToken() == JsonToken.FIELD_NAME) {
                        String field = parser.currentName();
                        JsonToken token = parser.nextToken();
                        if (token.isScalarValue() && token != JsonToken.VALUE_NULL) {
                            fields.put(field, parser.getText());
                        } else {
                            parser.skipChildren();
                        }
                    }
                } else {
                    parser.skipChildren();
                }
            }
            // The rest must be well-formed too: a truncated body is a 400, as the tree parse would say.
            while (parser.nextToken() != null) {
                parser.skipChildren();
            }
        } catch (JsonProcessingException e) {
            throw InboundJson.invalid("body", "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw InboundJson.invalid("body", "unreadable: " + e.getMessage());
        }
        fields.values().removeIf(String::isEmpty);
        return fields;
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
