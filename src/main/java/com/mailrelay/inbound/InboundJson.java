package com.mailrelay.inbound;

import java.io.IOException;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;

/** Reading provider payloads: malformed JSON is a 400, and absent fields read as null. */
final class InboundJson {

    private InboundJson() {
    }

    static JsonNode parse(ObjectMapper json, byte[] body) {
        if (body == null || body.length == 0) {
            throw invalid("body", "is empty; the provider posts a JSON document");
        }
        try {
            JsonNode root = json.readTree(body);
            if (root == null || root.isMissingNode()) {
                throw invalid("body", "is not JSON");
            }
            return root;
        } catch (JsonProcessingException e) {
            throw invalid("body", "malformed JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw invalid("body", "unreadable: " + e.getMessage());
        }
    }

    static ValidationException invalid(String field, String message) {
        return new ValidationException(List.of(new FieldError(field, message)));
    }

    /** The text at a path of field names, or null when any step is absent, null or not a value. */
    static String text(JsonNode node, String... path) {
        JsonNode current = node;
        for (String field : path) {
            if (current == null || !current.isObject()) {
                return null;
            }
            current = current.get(field);
        }
        if (current == null || current.isNull() || current.isContainerNode()) {
            return null;
        }
        String value = current.asText();
        return value.isEmpty() ? null : value;
    }

    /** Adds a field to an event's detail only when the provider gave it. */
    static void putPresent(Map<String, Object> detail, String field, String value) {
        if (value != null) {
            detail.put(field, value);
        }
    }

    /** A provider's event time (seconds since the epoch, maybe with a fraction) as an ISO-8601 instant. */
    static String epochSeconds(JsonNode node, String field) {
        JsonNode value = node.get(field);
        if (value == null || !value.isNumber() && !value.isTextual()) {
            return null;
        }
        try {
            double seconds = value.isNumber() ? value.asDouble() : Double.parseDouble(value.asText());
            return Instant.ofEpochMilli(Math.round(seconds * 1000)).toString();
        } catch (NumberFormatException | DateTimeException e) {
            return null;
        }
    }
}
