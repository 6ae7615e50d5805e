package com.mailrelay.tracking;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import com.mailrelay.config.RelayProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Signed, URL-safe tokens of the tracking and unsubscribe links:
 * {@code base64url(payload) "." base64url(HMAC-SHA256(secret, payload))[first 16 bytes]}.
 * The payload names what the link is for (open, click, unsubscribe), until when it works, the
 * message and the recipient, and for a click the target URL — a redirect goes only where a token
 * we signed says:
 * {@code kind (1 byte: O, C, U) | expiry (4 bytes, unsigned epoch seconds) | message id (16) |
 * recipient length (2) | recipient (UTF-8) | url (UTF-8, clicks)}.
 * Tokens minted before tokens had an expiry have the kind in lower case (o, c, u) and no expiry
 * field; they verify with a null expiry, and the caller gives them one from their message.
 */
@Component
public class TrackingTokens {

    private static final Logger log = LoggerFactory.getLogger(TrackingTokens.class);
    private static final int MAC_BYTES = 16;           // 128 bits of HMAC-SHA256
    private static final int MAX_TOKEN = 16 * 1024;    // longer than any token we issue
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
    /** The latest expiry four unsigned bytes of epoch seconds hold (2106). */
    private static final long MAX_EXPIRY = 0xFFFFFFFFL;

    public enum Kind {
        OPEN('O'), CLICK('C'), UNSUBSCRIBE('U');

        /** The code of tokens with an expiry; tokens from before expiries have it in lower case. */
        private final char code;

        Kind(char code) {
            this.code = code;
        }

        private char legacyCode() {
            return Character.toLowerCase(code);
        }
    }

    /**
     * What a verified token says. {@code url} is set for clicks only; {@code expires} is when the
     * link stops working, null in a token minted before tokens had an expiry.
     */
    public record Claim(Kind kind, UUID messageId, String recipient, String url, Instant expires) {
    }

    private final SecretKeySpec key;

    public TrackingTokens(RelayProperties properties) {
        String secret = properties.tracking().secret();
        byte[] material;
        if (secret == null || secret.isBlank()) {
            material = new byte[32];
            new SecureRandom().nextBytes(material);
            log.warn("relay.tracking.secret is not set: tracking and unsubscribe links are signed with a random key"
                    + " and stop working when this process ends; set the same secret on every instance");
        } else {
            material = secret.getBytes(StandardCharsets.UTF_8);
        }
        this.key = new SecretKeySpec(material, "HmacSHA256");
    }

    /** A token for the claim, which must have an expiry. */
    public String issue(Claim claim) {
        byte[] recipient = claim.recipient().getBytes(StandardCharsets.UTF_8);
        byte[] url = claim.url() == null ? new byte[0] : claim.url().getBytes(StandardCharsets.UTF_8);
        long expires = Math.min(Math.max(claim.expires().getEpochSecond(), 0), MAX_EXPIRY);
        ByteBuffer payload = ByteBuffer.allocate(1 + 4 + 16 + 2 + recipient.length + url.length);
        payload.put((byte) claim.kind().code)
                .putInt((int) expires)
                .putLong(claim.messageId().getMostSignificantBits())
                .putLong(claim.messageId().getLeastSignificantBits())
                .putShort((short) recipient.length).put(recipient).put(url);
        byte[] bytes = payload.array();
        return ENCODER.encodeToString(bytes) + "." + ENCODER.encodeToString(mac(bytes));
    }

    /** The claim of a token we signed for this kind of link; empty for anything else, however malformed. */
    public Optional<Claim> verify(String token, Kind expected) {
        if (token == null || token.length() > MAX_TOKEN) {
            return Optional.empty();
        }
        int dot = token.indexOf('.');
        if (dot <= 0 || dot != token.lastIndexOf('.')) {
            return Optional.empty();
        }
        try {
            byte[] payload = DECODER.decode(token.substring(0, dot));
            byte[] signature = DECODER.decode(token.substring(dot + 1));
            // Canonical encodings only: a token that decodes to the same bytes but is spelt
            // differently is not one we issued.
            if (!ENCODER.encodeToString(payload).equals(token.substring(0, dot))
                    || !ENCODER.encodeToString(signature).equals(token.substring(dot + 1))
                    || !MessageDigest.isEqual(mac(payload), signature)) {
                return Optional.empty();
            }
            return parse(payload, expected);
        } catch (IllegalArgumentException | java.nio.BufferUnderflowException e) {
            return Optional.empty();
        }
    }

    private static Optional<Claim> parse(byte[] payload, Kind expected) {
        ByteBuffer in = ByteBuffer.wrap(payload);
        char code = (char) in.get();
        Instant expires;
        if (code == expected.code) {
            expires = Instant.ofEpochSecond(Integer.toUnsignedLong(in.getInt()));
        } else if (code == expected.legacyCode()) {
            expires = null;
        } else {
            return Optional.empty();
        }
        UUID messageId = new UUID(in.getLong(), in.getLong());
        byte[] recipient = new byte[Short.toUnsignedInt(in.getShort())];
        in.get(recipient);
        byte[] url = new byte[in.remaining()];
        in.get(url);
        return Optional.of(new Claim(expected, messageId, new String(recipient, StandardCharsets.UTF_8),
                expected == Kind.CLICK ? new String(url, StandardCharsets.UTF_8) : null, expires));
    }

    private byte[] mac(byte[] payload) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Arrays.copyOf(mac.doFinal(payload), MAC_BYTES);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is always available", e);
        }
    }
}
