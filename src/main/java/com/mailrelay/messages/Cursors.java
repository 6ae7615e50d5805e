package com.mailrelay.messages;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.UUID;

import com.mailrelay.api.QueryParameters;
import com.mailrelay.store.MessageQueries;

/**
 * The opaque cursors of the message listings: the (queued_at, id) of the last row of a page, to
 * the nanosecond the database stored, and whether the listing runs newest first, base64url-encoded
 * so that clients pass it back as it is.
 */
final class Cursors {

    private Cursors() {
    }

    static String write(MessageQueries.Cursor cursor) {
        String plain = cursor.queuedAt().getEpochSecond() + "." + cursor.queuedAt().getNano() + "." + cursor.id()
                + (cursor.newest() ? ".newest" : "");
        return Base64.getUrlEncoder().withoutPadding().encodeToString(plain.getBytes(StandardCharsets.US_ASCII));
    }

    /** The cursor, or null when absent; an unreadable one is recorded as an error of {@code name}. */
    static MessageQueries.Cursor read(QueryParameters q, String name, String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            String plain = new String(Base64.getUrlDecoder().decode(raw.trim()), StandardCharsets.US_ASCII);
            String[] parts = plain.split("\\.", 4);
            if (parts.length == 4 && !parts[3].equals("newest")) {
                throw new IllegalArgumentException("unknown order");
            }
            return new MessageQueries.Cursor(Instant.ofEpochSecond(Long.parseLong(parts[0]), Long.parseLong(parts[1])),
                    UUID.fromString(parts[2]), parts.length == 4);
        } catch (RuntimeException e) {
            q.invalid(name, "must be the cursor a previous page gave as next_cursor");
            return null;
        }
    }
}
