package com.mailrelay.inbound;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.EventType;
import org.springframework.stereotype.Component;

import static com.mailrelay.inbound.InboundJson.putPresent;
import static com.mailrelay.inbound.InboundJson.text;

/**
 * SendGrid's signed Event Webhook: a JSON array of events, with an ECDSA (P-256, SHA-256) signature of
 * the timestamp header followed by the raw body, base64 DER in X-Twilio-Email-Event-Webhook-Signature.
 * Verified on the body's bytes exactly as received, before anything parses them.
 */
@Component
public class SendGridWebhook {

    public static final String SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature";
    public static final String TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp";

    private final ObjectMapper json;
    private final InboundSigningKeys keys;
    private final SignatureWindow window;

    public SendGridWebhook(ObjectMapper json, InboundSigningKeys keys, SignatureWindow window) {
        this.json = json;
        this.keys = keys;
        this.window = window;
    }

    public InboundBatch verify(String workspace, String signature, String timestamp, byte[] body) {
        PublicKey key = keys.sendgrid(workspace);
        if (signature == null || signature.isBlank() || timestamp == null || timestamp.isBlank()) {
            throw new InvalidSignatureException("missing signature: SendGrid sends the " + SIGNATURE_HEADER
                    + " and " + TIMESTAMP_HEADER + " headers");
        }
        if (!verifies(key, signature.trim(), timestamp, body == null ? new byte[0] : body)) {
            throw new InvalidSignatureException("the signature does not match the body and the workspace's "
                    + "SendGrid verification key");
        }
        Instant signedAt = window.check(timestamp);
        JsonNode root = InboundJson.parse(json, body);
        if (!root.isArray()) {
            throw InboundJson.invalid("body", "must be a JSON array of events");
        }
        List<InboundEvent> events = new ArrayList<>();
        for (JsonNode event : root) {
            if (!event.isObject()) {
                throw InboundJson.invalid("body[" + events.size() + "]", "must be an object");
            }
            events.add(event(event));
        }
        // SendGrid gives no per-request nonce: its event ids keep a replayed batch from counting twice.
        return new InboundBatch(InboundProvider.SENDGRID, workspace, null, signedAt, events);
    }

    private static boolean verifies(PublicKey key, String signature, String timestamp, byte[] body) {
        byte[] der;
        try {
            der = Base64.getDecoder().decode(signature);
        } catch (IllegalArgumentException e) {
            return false;
        }
        try {
            Signature verifier = Signature.getInstance("SHA256withECDSA");
            verifier.initVerify(key);
            verifier.update(timestamp.getBytes(StandardCharsets.UTF_8));
            verifier.update(body);
            return verifier.verify(der);
        } catch (java.security.SignatureException e) {
            return false;   // not a DER-encoded ECDSA signature at all
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA256withECDSA is part of every JRE", e);
        }
    }

    /**
     * bounce is a hard bounce, unless its type is "blocked" (refused for now, not for good: a soft
     * bounce); dropped is a reject, deferred a deferral; processed and delivered are not recorded.
     */
    static EventType type(String event, String bounceType) {
        if (event == null) {
            return null;
        }
        return switch (event) {
            case "bounce" -> "blocked".equals(bounceType) ? EventType.SOFT_BOUNCE : EventType.HARD_BOUNCE;
            case "dropped" -> EventType.REJECT;
            case "deferred" -> EventType.DEFERRAL;
            case "spamreport" -> EventType.SPAM;
            case "unsubscribe", "group_unsubscribe" -> EventType.UNSUB;
            case "open" -> EventType.OPEN;
            case "click" -> EventType.CLICK;
            default -> null;
        };
    }

    private static InboundEvent event(JsonNode event) {
        String name = text(event, "event");
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("provider", InboundProvider.SENDGRID.id());
        detail.put("provider_event", name);
        putPresent(detail, "reply", text(event, "reason") != null ? text(event, "reason") : text(event, "response"));
        putPresent(detail, "code", text(event, "status"));
        putPresent(detail, "bounce_type", text(event, "type"));
        putPresent(detail, "ip", text(event, "ip"));
        putPresent(detail, "user_agent", text(event, "useragent"));
        putPresent(detail, "url", text(event, "url"));
        putPresent(detail, "occurred_at", InboundJson.epochSeconds(event, "timestamp"));
        return new InboundEvent(text(event, "sg_event_id"), type(name, text(event, "type")), name,
                text(event, "email"), text(event, InboundMessages.RELAY_MESSAGE_ID), text(event, "smtp-id"), detail);
    }
}
