package com.mailrelay.ingress.smtp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.InputLimits;
import com.mailrelay.message.MergeData;
import com.mailrelay.message.SendTimes;

/**
 * Mandrill's SMTP headers, read into what REST takes as fields: X-MC-Tags, X-MC-Metadata,
 * X-MC-MergeVars and X-MC-SendAt, with REST's limits ({@link InputLimits}). Apart from the SMTP transaction
 * because it is parsing, not protocol: {@link SmtpSubmission} answers each {@link Invalid} with
 * {@code 550 5.6.0} and the problem, which names the header.
 */
final class MandrillHeaders {

    private static final byte[] PLACEHOLDER_START = "{{".getBytes(StandardCharsets.US_ASCII);
    private static final TypeReference<Map<String, Object>> JSON_OBJECT = new TypeReference<>() { };
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A header that breaks its rule; the message says which header and how. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    private MandrillHeaders() {
    }

    /** X-MC-Tags: a comma-separated list, with the tag rules of REST. */
    static List<String> tags(String header, InputLimits limits) throws Invalid {
        if (header == null) {
            return List.of();
        }
        List<String> tags = Arrays.stream(header.split(",")).map(String::trim).filter(tag -> !tag.isEmpty()).toList();
        Optional<String> count = limits.tagCount(tags.size());
        if (count.isPresent()) {
            throw new Invalid("X-MC-Tags: " + count.get());
        }
        for (String tag : tags) {
            Optional<String> problem = limits.tag(tag);
            if (problem.isPresent()) {
                throw new Invalid("X-MC-Tags: each tag " + problem.get());
            }
        }
        return tags;
    }

    /** X-MC-Metadata: a JSON object, within relay.limits.metadata-bytes. */
    static Map<String, Object> metadata(String header, InputLimits limits) throws Invalid {
        if (header == null) {
            return Map.of();
        }
        Map<String, Object> metadata = object(header);
        if (metadata == null) {
            throw new Invalid("X-MC-Metadata must be a JSON object");
        }
        List<InputLimits.Problem> problems = limits.metadata("X-MC-Metadata", metadata);
        if (!problems.isEmpty()) {
            throw new Invalid(problems.get(0).field() + " " + problems.get(0).message());
        }
        return metadata;
    }

    /**
     * X-MC-SendAt: Mandrill's scheduled send over SMTP, a UTC time as YYYY-MM-DD HH:MM:SS (the form
     * of its API's send_at), with the relay's own bounds (relay.scheduling.horizon).
     */
    static Instant sendAt(String header, SendTimes times) throws Invalid {
        SendTimes.Checked checked = times.mandrill(header);
        if (!checked.valid()) {
            throw new Invalid("X-MC-SendAt " + checked.problem());
        }
        return checked.at();
    }

    /**
     * X-MC-MergeVars: each header a JSON object of NAME → value for every recipient, or, with a
     * "_rcpt" member, for that recipient only. The message is personalised when it has such
     * headers or "{{" appears in its bytes (placeholders inside base64-encoded parts are found
     * only when one of these, or tracking, applies).
     */
    static MergeData mergeData(List<String> headers, byte[] message, InputLimits limits) throws Invalid {
        Map<String, String> global = new HashMap<>();
        Map<String, Map<String, String>> perRecipient = new HashMap<>();
        for (String header : headers) {
            Map<String, Object> object = object(header);
            if (object == null) {
                throw new Invalid("X-MC-MergeVars must be a JSON object");
            }
            Object rcpt = object.remove("_rcpt");
            // Keyed as the recipients are compared, so "Bob@X.ORG" finds the recipient bob@x.org.
            Map<String, String> target = rcpt == null ? global
                    : perRecipient.computeIfAbsent(Addresses.key(String.valueOf(rcpt)), r -> new HashMap<>());
            for (var entry : object.entrySet()) {
                Object value = entry.getValue();
                if (value instanceof Map || value instanceof List) {
                    throw new Invalid("X-MC-MergeVars values must be strings, numbers or booleans");
                }
                String text = value == null ? "" : String.valueOf(value);
                String control = Addresses.controlCharacter(entry.getKey(), false);
                Optional<String> problem = control != null
                        ? Optional.of("names must not contain control characters (found " + control + ")")
                        : InputLimits.variableValue(text).map(p -> "values " + p);
                if (problem.isPresent()) {
                    throw new Invalid("X-MC-MergeVars " + problem.get());
                }
                target.put(entry.getKey(), text);
            }
            Optional<String> count = limits.variableCount(target.size());
            if (count.isPresent()) {
                throw new Invalid("X-MC-MergeVars: " + count.get() + (rcpt == null ? "" : " for one recipient"));
            }
        }
        long bytes = InputLimits.bytes(global);
        for (Map<String, String> variables : perRecipient.values()) {
            bytes += InputLimits.bytes(variables);
        }
        Optional<String> size = limits.variableBytes(bytes);
        if (size.isPresent()) {
            throw new Invalid("X-MC-MergeVars: " + size.get());
        }
        boolean placeholders = !headers.isEmpty() || contains(message, PLACEHOLDER_START);
        return new MergeData(global, perRecipient, placeholders);
    }

    /** The header as a JSON object, or null when it is not one. */
    private static Map<String, Object> object(String header) {
        try {
            return JSON.readValue(header, JSON_OBJECT);
        } catch (IOException e) {
            return null;
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
