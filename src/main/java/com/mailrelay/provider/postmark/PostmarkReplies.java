package com.mailrelay.provider.postmark;

import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.HttpReplies;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.TransientDeliveryException;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.springframework.stereotype.Component;

/**
 * What Postmark's answer to a send means. Postmark answers 200 with
 * {@code {"To", "SubmittedAt", "MessageID", "ErrorCode": 0, "Message": "OK"}} — the MessageID is
 * kept as the provider message id — and refuses with {@code {"ErrorCode": n, "Message": "..."}},
 * mostly as HTTP 422, a bad token as 401 (postmarkapp.com/developer/api/overview, "HTTP response
 * codes" and "API error codes"). By ErrorCode:
 * <ul>
 * <li>10 bad or missing token, 400 sender signature not found, 401 sender signature not
 * confirmed, 405 not allowed to send (no credits left), 412 account pending approval, 413
 * account may not send: the relay's set-up at Postmark — a configuration fault (breaker open,
 * failover, no attempt used);</li>
 * <li>300 invalid email request, 406 inactive recipient (suppressed after a hard bounce, a spam
 * complaint or by hand): permanent, and for 406 permanent for the recipients it names (all of
 * them if it names none: Postmark sent to nobody), which the relay then suppresses;</li>
 * <li>100 maintenance, 429 rate limit: transient;</li>
 * <li>anything else, and answers without an ErrorCode: what HTTP says (HttpReplies: 429 and 5xx
 * transient with Retry-After, 401/403 configuration, other 4xx permanent).</li>
 * </ul>
 */
@Component("postmarkReplies")
public class PostmarkReplies {

    /** The exchange property the template's last step takes the provider's reply from. */
    public static final String REPLY = "relayHttpReply";

    static final Set<Integer> CONFIGURATION = Set.of(10, 400, 401, 405, 412, 413);
    static final Set<Integer> TRANSIENT = Set.of(100, 429);
    static final int INVALID_REQUEST = 300;
    static final int INACTIVE_RECIPIENT = 406;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;

    public PostmarkReplies(Clock clock) {
        this.clock = clock;
    }

    public void classify(Exchange exchange, String providerId) {
        Message in = exchange.getMessage();
        in.removeHeaders("X-Postmark-Server-Token");
        int status = in.getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class);
        String body = in.getBody(String.class);
        JsonNode json = parse(body);
        int errorCode = json != null && json.path("ErrorCode").canConvertToInt() ? json.path("ErrorCode").asInt() : -1;
        String text = json != null && json.path("Message").isTextual() ? json.path("Message").asText() : body;
        String retryAfter = in.getHeader("Retry-After", String.class);
        if (status >= 200 && status < 300 && errorCode <= 0) {
            in.setHeader(RelayHeaders.PROVIDER_MESSAGE_ID, json == null ? null : json.path("MessageID").asText(null));
            exchange.setProperty(REPLY, "HTTP " + status + (text == null || text.isBlank() ? "" : ": "
                    + HttpReplies.start(text)));
            return;
        }
        String reply = "HTTP " + status + (errorCode >= 0 ? " ErrorCode " + errorCode : "")
                + (text == null || text.isBlank() ? "" : ": " + HttpReplies.start(text));
        if (CONFIGURATION.contains(errorCode)) {
            throw new ProviderConfigurationException(providerId, status, reply, null);
        }
        if (TRANSIENT.contains(errorCode)) {
            throw new TransientDeliveryException(providerId, status, reply, HttpReplies.retryAfter(retryAfter, clock),
                    null);
        }
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        if (errorCode == INACTIVE_RECIPIENT) {
            List<String> named = named(message, text);
            throw new PermanentDeliveryException(providerId, status, reply, named.isEmpty() && message != null
                    ? message.recipients() : named, null);
        }
        if (errorCode == INVALID_REQUEST) {
            throw new PermanentDeliveryException(providerId, status, reply, named(message, text), null);
        }
        DeliveryException failure = HttpReplies.classify(providerId, status, retryAfter, text, clock);
        if (failure == null) {
            // A 2xx with an ErrorCode: Postmark did not take the message, and says no more.
            throw new PermanentDeliveryException(providerId, status, reply, null);
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
