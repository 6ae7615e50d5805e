package com.mailrelay.api;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;

/**
 * Query parameters of the listing endpoints, each checked with an error that names it (400 with the
 * list of every invalid one, as a submission's fields). Collect with one instance, then call
 * {@link #check()} before using the values:
 * <pre>
 *   QueryParameters q = new QueryParameters();
 *   int limit = q.limit("limit", raw, 100, 1000);
 *   Instant since = q.instant("since", rawSince);
 *   q.check();
 * </pre>
 */
public final class QueryParameters {

    private final List<FieldError> errors = new ArrayList<>();

    /** A page size: absent is the default; otherwise a whole number from 1 to max. */
    public int limit(String name, String raw, int defaultLimit, int max) {
        if (raw == null || raw.isBlank()) {
            return defaultLimit;
        }
        try {
            int value = Integer.parseInt(raw.trim());
            if (value >= 1 && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        errors.add(new FieldError(name, "must be a whole number from 1 to " + max));
        return defaultLimit;
    }

    /** A time in RFC 3339 (2026-12-01T10:00:00Z, an offset allowed), or null when absent. */
    public Instant instant(String name, String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(raw.trim()).toInstant();
        } catch (DateTimeParseException e) {
            errors.add(new FieldError(name, "must be a time in RFC 3339, e.g. 2026-12-01T10:00:00Z"));
            return null;
        }
    }

    /** One of the allowed values (compared case-insensitively, answered upper-case), or null when absent. */
    public String oneOf(String name, String raw, Set<String> allowed) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        String value = raw.trim().toUpperCase(Locale.ROOT);
        if (!allowed.contains(value)) {
            errors.add(new FieldError(name, "must be one of " + allowed.stream().sorted().toList()));
            return null;
        }
        return value;
    }

    /** A free-text filter (an id, a tag, an address): trimmed, at most max characters, null when absent. */
    public String text(String name, String raw, int max) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        String value = raw.trim();
        if (value.length() > max || value.chars().anyMatch(Character::isISOControl)) {
            errors.add(new FieldError(name, "must be at most " + max + " characters, without control characters"));
            return null;
        }
        return value;
    }

    /** A cursor the previous page gave (a whole number), or null when absent. */
    public Long cursor(String name, String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            long value = Long.parseLong(raw.trim());
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // named below
        }
        errors.add(new FieldError(name, "must be the cursor a previous page gave as next_cursor"));
        return null;
    }

    /**
     * A cursor the previous page gave as the base64url of a text (the last name listed), decoded;
     * null when absent.
     */
    public String textCursor(String name, String raw) {
        if (raw == null || raw.isBlank()) {
            return null;
        }
        try {
            return new String(Base64.getUrlDecoder().decode(raw.trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError(name, "must be the cursor a previous page gave as next_cursor"));
            return null;
        }
    }

    /** The next_cursor that {@link #textCursor} reads back: {@code last} (the last name listed) in base64url. */
    public static String textCursorOf(String last) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(last.getBytes(StandardCharsets.UTF_8));
    }

    /** Records an error of the caller's own (e.g. since after until). */
    public void invalid(String name, String message) {
        errors.add(new FieldError(name, message));
    }

    /** Throws the 400 naming every invalid parameter, if any. */
    public void check() {
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
    }
}
