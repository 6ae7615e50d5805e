package com.mailrelay.provider.mailgun;

import java.time.Clock;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.HttpReplies;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.springframework.stereotype.Component;

/**
 * What Mailgun's answer to a send means (documentation.mailgun.com/docs/mailgun/quickstart-guide/responses,
 * "API Response Codes"): 200 with {@code {"id": "<...>", "message": "Queued. Thank you."}} is a
 * delivery, whose id (without its angle brackets, as Mailgun's events give it) is kept as the
 * provider message id; 429 and 5xx are transient, Retry-After honoured; 401 and 403 (key refused,
 * access denied, a domain that may not send) and 404 (no such domain: the template's domain or base
 * URL is wrong) are a configuration fault; any other 4xx (400 with a {@code message} saying what
 * was wrong, 413 too large) is permanent, for the recipients its message names if it names any.
 */
@Component("mailgunReplies")
public class MailgunReplies {

    /** The exchange property the template's last step takes the provider's reply from. */
    public static final String REPLY = "relayHttpReply";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;

    public MailgunReplies(Clock clock) {
        this.clock = clock;
    }

    public void classify(Exchange exchange, String providerId) {
        Message in = exchange.getMessage();
        int status = in.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        String body = in.getBody(String.class);
        JsonNode json = parse(body);
        String text = json != null && json.path("message").isTextual() ? json.path("message").asText() : body;
        DeliveryException failure = HttpReplies.classify(providerId, status, in.getHeader("Retry-After", String.class),
                text, clock);
        if (failure == null) {
            String id = json == null ? null : json.path("id").asText(null);
            in.setHeader(RelayHeaders.PROVIDER_MESSAGE_ID, id == null ? null : stripBrackets(id));
            exchange.setProperty(REPLY, "HTTP " + status + (text == null || text.isBlank() ? "" : ": "
                    + HttpReplies.start(text)));
            return;
        }
        if (status == 404) {
            throw new ProviderConfigurationException(providerId, status, failure.reply()
                    + " (the domain or base URL of provider " + providerId + " is not Mailgun's)", null);
        }
        if (failure instanceof PermanentDeliveryException) {
            ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
            throw new PermanentDeliveryException(providerId, status, failure.reply(), named(message, text), null);
        }
        throw failure;
    }

    /** The envelope recipients an error message names. */
    static List<String> named(ClaimedMessage message, String text) {
        if (text == null || message == null) {
            return List.of();
        }
        String lower = text.toLowerCase(Locale.ROOT);
        return message.recipients().stream().filter(r -> lower.contains(r.toLowerCase(Locale.ROOT))).toList();
    }

    static String stripBrackets(String id) {
        String trimmed = id.trim();
        return trimmed.startsWith("<") && trimmed.endsWith(">") ? trimmed.substring(1, trimmed.length() - 1) : trimmed;
    }

    private static JsonNode parse(String body) {
        if (body == null || body.isBlank() || !body.strip().startsWith("{")) {
            return null;
        }
        try {
            return JSON.readTree(body);
        } catch (java.io.IOException notJson) {
            return null;
        }
    }
}
