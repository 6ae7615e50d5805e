package com.mailrelay.provider.sendgrid;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.HttpReplies;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.TransientDeliveryException;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * What SendGrid's answer to a Mail Send means (api-reference/mail-send/errors and
 * how-to-use-the-sendgrid-v3-api/errors):
 * <ul>
 * <li>202 Accepted, empty body: queued; its {@code X-Message-Id} header is the provider's message id.
 * 200 is sandbox mode ("valid, but not queued"): nothing is sent, so it is a configuration fault.</li>
 * <li>400 with {@code errors[].field/message}: permanent; an error on a recipient's field
 * ("personalizations.0.to.1.email": "Does not contain a valid address.") names that recipient as
 * refused, so that it is suppressed.</li>
 * <li>401 (key invalid, expired or revoked; "Maximum credits exceeded") and 403 (key without the
 * mail.send scope, sender identity not verified, temporary block): a configuration fault.</li>
 * <li>413 payload too large: permanent.</li>
 * <li>429: transient, not before {@code Retry-After} or else {@code X-RateLimit-Reset} (a Unix time).</li>
 * <li>5xx: transient (with Retry-After if given).</li>
 * </ul>
 */
@Component("sendGridReplies")
public class SendGridReplies {

    /** Exchange property: the reply the template stores as relayProviderReply. */
    public static final String REPLY = "sendGridReply";
    public static final String MESSAGE_ID_HEADER = "X-Message-Id";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;

    public SendGridReplies(Clock clock) {
        this.clock = clock;
    }

    public void classify(Exchange exchange, String providerId) {
        int status = exchange.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        String body = exchange.getMessage().getBody(String.class);
        if (status == 202) {
            String messageId = exchange.getMessage().getHeader(MESSAGE_ID_HEADER, String.class);
            exchange.getMessage().setHeader(RelayHeaders.PROVIDER_MESSAGE_ID, messageId);
            exchange.setProperty(REPLY, "202 accepted by SendGrid" + (messageId == null ? "" : ", X-Message-Id "
                    + messageId));
            return;
        }
        @SuppressWarnings("unchecked")
        Map<String, String> fields = exchange.getProperty(SendGridRequest.RECIPIENT_FIELDS, Map.class);
        throw failure(providerId, status, body, exchange.getMessage().getHeader("Retry-After", String.class),
                exchange.getMessage().getHeader("X-RateLimit-Reset", String.class), fields == null ? Map.of() : fields);
    }

    DeliveryException failure(String providerId, int status, String body, String retryAfter, String rateLimitReset,
                              Map<String, String> recipientFields) {
        String errors = errors(body);
        String reply = "HTTP " + status + (errors.isEmpty() ? (body == null || body.isBlank() ? ""
                : ": " + HttpReplies.start(body)) : ": " + errors);
        if (status >= 200 && status < 300) {
            return new ProviderConfigurationException(providerId, status, reply
                    + " (SendGrid answered " + status + ", not 202: the message was not queued, as in sandbox mode)",
                    null);
        }
        if (status == 400) {
            return new PermanentDeliveryException(providerId, status, reply, refused(body, recipientFields), null);
        }
        if (status == 413) {
            return new PermanentDeliveryException(providerId, status, reply.equals("HTTP 413")
                    ? "HTTP 413: the message is too large for SendGrid (at most 30 MB with its attachments)" : reply,
                    null);
        }
        if (status == 429) {
            Duration wait = HttpReplies.retryAfter(retryAfter, clock);
            if (wait == null) {
                wait = untilReset(rateLimitReset);
            }
            return new TransientDeliveryException(providerId, status, reply, wait, null);
        }
        DeliveryException classified = HttpReplies.classify(providerId, status, retryAfter, body, clock);
        if (classified == null) {
            return new TransientDeliveryException(providerId, status, reply, null);
        }
        // HttpReplies' kinds (401/403 configuration, 5xx transient, other 4xx permanent), with SendGrid's messages.
        if (classified instanceof ProviderConfigurationException) {
            return new ProviderConfigurationException(providerId, status, reply, null);
        }
        if (classified instanceof PermanentDeliveryException) {
            return new PermanentDeliveryException(providerId, status, reply, null);
        }
        return new TransientDeliveryException(providerId, status, reply, classified.retryAfter(), null);
    }

    /** X-RateLimit-Reset: when the window resets, in Unix seconds. */
    private Duration untilReset(String reset) {
        if (reset == null || reset.isBlank()) {
            return null;
        }
        try {
            Duration wait = Duration.between(clock.instant(), Instant.ofEpochSecond(Long.parseLong(reset.trim())));
            return wait.isNegative() ? Duration.ZERO : wait;
        } catch (NumberFormatException unreadable) {
            return null;
        }
    }

    /** "field: message; field: message" from SendGrid's {"errors": [{"field", "message", "help"}]}. */
    private static String errors(String body) {
        List<String> list = new ArrayList<>();
        for (JsonNode error : errorNodes(body)) {
            String field = error.path("field").isTextual() ? error.path("field").asText() : null;
            String message = error.path("message").asText("");
            list.add(field == null || field.isEmpty() ? message : field + ": " + message);
        }
        return list.isEmpty() ? "" : HttpReplies.start(String.join("; ", list));
    }

    /** The recipients whose fields SendGrid's errors name. */
    private static List<String> refused(String body, Map<String, String> recipientFields) {
        Set<String> refused = new LinkedHashSet<>();
        for (JsonNode error : errorNodes(body)) {
            String field = error.path("field").asText("");
            String address = recipientFields.get(field);
            if (address == null && !field.endsWith(".email")) {
                address = recipientFields.get(field + ".email");
            }
            if (address != null) {
                refused.add(address);
            }
        }
        return List.copyOf(refused);
    }

    private static List<JsonNode> errorNodes(String body) {
        List<JsonNode> nodes = new ArrayList<>();
        if (body == null || body.isBlank()) {
            return nodes;
        }
        try {
            JsonNode errors = JSON.readTree(body).path("errors");
            if (errors.isArray()) {
                errors.forEach(nodes::add);
            }
        } catch (java.io.IOException notJson) {
            // an HTML page from a proxy (413 from nginx): the reply keeps its start
        }
        return nodes;
    }
}
