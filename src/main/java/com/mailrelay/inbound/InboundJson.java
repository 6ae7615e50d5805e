package com.mailrelay.inbound;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.accept.ValidationException;
import com.mailrelay.accept.ValidationException.FieldError;

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
}
