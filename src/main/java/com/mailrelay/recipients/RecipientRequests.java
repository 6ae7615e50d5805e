package com.mailrelay.recipients;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.store.Suppressions;
import com.mailrelay.store.Suppressions.Recipient;
import org.apache.camel.Body;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;
import org.springframework.web.util.UriUtils;

/**
 * What the recipient API computes: the workspace's list, one address, and a PUT's validation and
 * change. The routes in {@link RecipientApiRoutes} decide what is answered with which status.
 */
@Component("recipientRequests")
public class RecipientRequests {

    private static final int LIST_LIMIT = 1000;

    private final Suppressions suppressions;
    private final ObjectMapper json;

    public RecipientRequests(Suppressions suppressions, ObjectMapper json) {
        this.suppressions = suppressions;
        this.json = json;
    }

    /** The workspace's recipients, of one status if {@code ?status=} is given. */
    public List<Recipient> list(@Header(RelayHeaders.WORKSPACE) String workspace, @Header("status") String status) {
        return suppressions.list(workspace, status == null ? null : status.toUpperCase(Locale.ROOT), LIST_LIMIT);
    }

    /** The address's entry, or null when it is not on the workspace's list. */
    public Recipient find(@Header(RelayHeaders.WORKSPACE) String workspace, @Header("email") String email) {
        return suppressions.find(workspace, decoded(email)).orElse(null);
    }

    /** Validates the PUT body (every field error at once), applies it, and returns the entry as it now is. */
    public Recipient put(@Header(RelayHeaders.WORKSPACE) String workspace, @Header("email") String rawEmail,
                         @Body String requestBody) {
        String email = decoded(rawEmail);
        if (email == null || Addresses.canonicalOf(email).isEmpty()) {
            throw new ValidationException(List.of(new FieldError("email", "is not a valid address")));
        }
        JsonNode body;
        try {
            body = json.readTree(requestBody);
        } catch (Exception e) {
            throw new ValidationException(List.of(new FieldError("body", "malformed JSON")));
        }
        if (body == null || !body.isObject()) {
            throw new ValidationException(List.of(new FieldError("body", "must be a JSON object")));
        }
        List<FieldError> errors = new ArrayList<>();
        String firstName = name(body, "first_name", errors);
        String lastName = name(body, "last_name", errors);
        Suppressions.Status parsed = null;
        if (body.hasNonNull("status") || (firstName == null && lastName == null)) {
            String status = body.hasNonNull("status") ? body.get("status").asText() : "";
            try {
                parsed = Suppressions.Status.valueOf(status.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                errors.add(new FieldError("status", "must be one of ACTIVE, BOUNCED, UNSUBSCRIBED, COMPLAINED"));
            }
        }
        if (!errors.isEmpty()) {
            throw new ValidationException(errors);
        }
        String reason = body.hasNonNull("reason") ? body.get("reason").asText() : "set through the API";
        String control = Addresses.controlCharacter(reason, true);
        if (control != null) {
            throw new ValidationException(List.of(new FieldError("reason",
                    "must not contain control characters (found " + control + ")")));
        }
        String address = Addresses.canonicalOf(email).orElseThrow();
        if (firstName != null || lastName != null) {
            suppressions.name(workspace, address, firstName, lastName);
        }
        if (parsed != null) {
            suppressions.set(workspace, address, parsed, reason);
        }
        return suppressions.find(workspace, address).orElseThrow();
    }

    /** first_name / last_name: a string of at most 255 characters without line breaks, or absent. */
    private static String name(JsonNode body, String field, List<FieldError> errors) {
        JsonNode value = body.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual() || value.asText().length() > 255 || Addresses.controlCharacter(value.asText(), false) != null) {
            errors.add(new FieldError(field, "must be a string of at most 255 characters without control characters"));
            return null;
        }
        return value.asText();
    }

    /**
     * The {email} path segment, percent-decoded: HTTP clients send {@code bob%40x.org} and a
     * Unicode domain as UTF-8 escapes. '+' stays '+' (it is common in local parts).
     */
    private static String decoded(String raw) {
        if (raw == null || raw.indexOf('%') < 0) {
            return raw;
        }
        try {
            return UriUtils.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return raw;
        }
    }
}
