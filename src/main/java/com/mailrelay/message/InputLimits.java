package com.mailrelay.message;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The rules both ingresses apply to what a submission carries besides its MIME (tags, metadata,
 * variables), so that REST and SMTP refuse the same things with the same words: each rule
 * returns the reason, the caller names the field (a JSON path, or a header) and answers 400 or
 * 550 5.6.0. Everything here is checked before the accept, so nothing the database cannot hold
 * (a NUL, an over-long value) ever reaches it.
 */
public final class InputLimits {

    /** A problem found in a nested value: where ({@code metadata.a.b}) and why. */
    public record Problem(String field, String message) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The bounds, as relay.limits.* sets them (config.RelayProperties.Limits makes them). */
    public record Bounds(long metadataBytes, int tags, int tagLength, int variables, long variablesBytes,
                         int reportedErrors) {
    }

    private final Bounds limits;

    public InputLimits(Bounds limits) {
        this.limits = limits;
    }

    /** How many invalid fields one refusal lists at most. */
    public int reportedErrors() {
        return limits.reportedErrors();
    }

    public Optional<String> tagCount(int count) {
        return count > limits.tags()
                ? Optional.of("at most " + limits.tags() + " tags per message (relay.limits.tags); " + count + " given")
                : Optional.empty();
    }

    /** One tag: 1 to tag-length characters, no control character (TAB included). */
    public Optional<String> tag(String tag) {
        if (tag == null || tag.isBlank() || tag.length() > limits.tagLength()
                || tag.chars().anyMatch(Character::isISOControl)) {
            return Optional.of("must be 1 to " + limits.tagLength() + " printable characters");
        }
        return Optional.empty();
    }

    /**
     * Metadata: no control character in any key or string value (at any depth), and at most
     * metadata-bytes of JSON. Problems in keys and values first, then the size.
     */
    public List<Problem> metadata(String field, Map<String, ?> metadata) {
        List<Problem> problems = new ArrayList<>();
        if (metadata == null || metadata.isEmpty()) {
            return problems;
        }
        controls(field, metadata, problems);
        long size = jsonBytes(metadata);
        if (size > limits.metadataBytes()) {
            problems.add(new Problem(field, "is " + size + " bytes of JSON, over the limit of "
                    + limits.metadataBytes() + " (relay.limits.metadata-bytes)"));
        }
        return problems;
    }

    public Optional<String> variableCount(int count) {
        return count > limits.variables()
                ? Optional.of("at most " + limits.variables() + " variables (relay.limits.variables); " + count + " given")
                : Optional.empty();
    }

    public Optional<String> variableBytes(long bytes) {
        return bytes > limits.variablesBytes()
                ? Optional.of("variables take " + bytes + " bytes together, over the limit of "
                        + limits.variablesBytes() + " (relay.limits.variables-bytes)")
                : Optional.empty();
    }

    /** A variable's value: line breaks may be wanted in a body (a header turns them into spaces); no other control. */
    public static Optional<String> variableValue(String value) {
        String control = Addresses.controlCharacter(value, true);
        return control == null ? Optional.empty()
                : Optional.of("must not contain control characters (found " + control + ")");
    }

    /** UTF-8 bytes of the names and values of a variables map. */
    public static long bytes(Map<String, String> variables) {
        long total = 0;
        for (var entry : variables.entrySet()) {
            total += utf8(entry.getKey()) + utf8(entry.getValue());
        }
        return total;
    }

    /**
     * At most {@code max} characters of a text, for a column that keeps only the start of it
     * (the MIME keeps it whole): never cut between the two halves of a surrogate pair, which no
     * database could store.
     */
    public static String truncated(String text, int max) {
        if (text == null || text.length() <= max) {
            return text;
        }
        int end = Character.isHighSurrogate(text.charAt(max - 1)) ? max - 1 : max;
        return text.substring(0, end);
    }

    public static long utf8(String text) {
        return text == null ? 0 : text.getBytes(StandardCharsets.UTF_8).length;
    }

    private static void controls(String path, Object value, List<Problem> problems) {
        if (value instanceof Map<?, ?> map) {
            for (var entry : map.entrySet()) {
                String key = String.valueOf(entry.getKey());
                String control = Addresses.controlCharacter(key, false);
                if (control != null) {
                    problems.add(new Problem(path, "has a key with a control character (" + control + ")"));
                    continue;
                }
                controls(path + "." + key, entry.getValue(), problems);
            }
        } else if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                controls(path + "[" + i + "]", list.get(i), problems);
            }
        } else if (value instanceof String text) {
            String control = Addresses.controlCharacter(text, false);
            if (control != null) {
                problems.add(new Problem(path, "must not contain control characters (found " + control + ")"));
            }
        }
    }

    private static long jsonBytes(Object value) {
        try {
            return JSON.writeValueAsBytes(value).length;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("metadata cannot be written as JSON", e);
        }
    }
}
