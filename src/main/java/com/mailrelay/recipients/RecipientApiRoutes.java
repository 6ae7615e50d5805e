package com.mailrelay.recipients;

import com.mailrelay.store.Suppressions;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Addresses;
import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.api.RestResponses;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * The suppression list of the caller's workspace: {@code GET /api/v1/recipients[?status=]},
 * {@code GET /api/v1/recipients/{email}}, {@code PUT /api/v1/recipients/{email}} with
 * {@code {"status": "ACTIVE" | "BOUNCED" | "UNSUBSCRIBED" | "COMPLAINED", "reason": "...",
 * "first_name": "...", "last_name": "..."}} (status may be left out when names are given).
 */
@Component
public class RecipientApiRoutes extends RouteBuilder {

    private final Suppressions suppressions;
    private final RestResponses responses;
    private final ObjectMapper json;

    public RecipientApiRoutes(Suppressions suppressions, RestResponses responses, ObjectMapper json) {
        this.suppressions = suppressions;
        this.responses = responses;
        this.json = json;
    }

    @Override
    public void configure() {
        rest("/api/v1/recipients")
                .get().id("rest-list-recipients").to("direct:recipients-list")
                .get("/{email}").id("rest-get-recipient").to("direct:recipients-get")
                .put("/{email}").id("rest-put-recipient").to("direct:recipients-put");

        from("direct:recipients-list").routeId("recipients-list").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .process(e -> {
                    String status = e.getMessage().getHeader("status", String.class);
                    responses.respond(e, 200, Map.of("recipients", suppressions.list(workspace(e),
                            status == null ? null : status.toUpperCase(Locale.ROOT), 1000)));
                });

        from("direct:recipients-get").routeId("recipients-get").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .process(e -> suppressions.find(workspace(e), email(e))
                        .ifPresentOrElse(recipient -> responses.respond(e, 200, recipient),
                                () -> responses.respond(e, 404, Map.of("error", "not_found",
                                        "message", "this address is not on the workspace's recipient list"))));

        from("direct:recipients-put").routeId("recipients-put").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .process(this::put);
    }

    private void put(Exchange exchange) throws Exception {
        String workspace = workspace(exchange);
        String email = email(exchange);
        if (email == null || Addresses.canonicalOf(email).isEmpty()) {
            throw new ValidationException(java.util.List.of(new FieldError("email", "is not a valid address")));
        }
        JsonNode body;
        try {
            body = json.readTree(exchange.getMessage().getBody(String.class));
        } catch (Exception e) {
            throw new ValidationException(java.util.List.of(new FieldError("body", "malformed JSON")));
        }
        if (body == null || !body.isObject()) {
            throw new ValidationException(java.util.List.of(new FieldError("body", "must be a JSON object")));
        }
        java.util.List<FieldError> errors = new java.util.ArrayList<>();
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
            throw new ValidationException(java.util.List.of(new FieldError("reason",
                    "must not contain control characters (found " + control + ")")));
        }
        String address = Addresses.canonicalOf(email).orElseThrow();
        if (firstName != null || lastName != null) {
            suppressions.name(workspace, address, firstName, lastName);
        }
        if (parsed != null) {
            suppressions.set(workspace, address, parsed, reason);
        }
        responses.respond(exchange, 200, suppressions.find(workspace, address).orElseThrow());
    }

    /** first_name / last_name: a string of at most 255 characters without line breaks, or absent. */
    private static String name(JsonNode body, String field, java.util.List<FieldError> errors) {
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
    private static String email(Exchange exchange) {
        String raw = exchange.getMessage().getHeader("email", String.class);
        if (raw == null || raw.indexOf('%') < 0) {
            return raw;
        }
        try {
            return org.springframework.web.util.UriUtils.decode(raw, java.nio.charset.StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            return raw;
        }
    }

    private static String workspace(Exchange exchange) {
        return exchange.getMessage().getHeader(RelayHeaders.WORKSPACE, String.class);
    }
}
