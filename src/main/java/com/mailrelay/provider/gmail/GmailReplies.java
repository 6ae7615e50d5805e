package com.mailrelay.provider.gmail;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.client.http.HttpResponseException;
import com.mailrelay.message.Causes;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.HttpReplies;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.TransientDeliveryException;
import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * What the Gmail API's answer means ("Resolve errors" of the Gmail API guide; its error body is
 * {@code {"error": {"code", "message", "status", "errors": [{"reason", "domain"}]}}}), and what the
 * OAuth token endpoint's refusal means (RFC 6749 §5.2 {@code {"error", "error_description"}}):
 * <table>
 * <tr><td>429, 403 rateLimitExceeded / userRateLimitExceeded / dailyLimitExceeded, 5xx (backendError),
 *   token endpoint 429/5xx or not reached</td><td>transient, Retry-After honoured</td></tr>
 * <tr><td>401 (invalid credentials), other 403 (insufficientPermissions, domain policy), token endpoint
 *   unauthorized_client / invalid_client / access_denied / invalid_scope / other 4xx</td>
 *   <td>configuration fault: breaker opened, no attempt used</td></tr>
 * <tr><td>400 invalidArgument / failedPrecondition, other 4xx; token endpoint invalid_grant for a
 *   sender that is no user of the domain</td><td>permanent for the message</td></tr>
 * </table>
 * On success Gmail's message {@code id} is kept as the provider message id.
 */
@Component("gmailReplies")
public class GmailReplies {

    /** The only scope sending needs (users.messages.send). */
    public static final String SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Gmail's reasons for "too much, slow down" (documented with 403 as well as 429). */
    private static final Set<String> RATE_REASONS = Set.of("rateLimitExceeded", "userRateLimitExceeded",
            "dailyLimitExceeded", "quotaExceeded", "backendError");
    /** Token endpoint errors that say the service account may not do this: its key, its delegation, its scopes. */
    private static final Set<String> TOKEN_CONFIGURATION = Set.of("unauthorized_client", "invalid_client",
            "access_denied", "invalid_scope", "unsupported_grant_type", "invalid_request");

    private final GmailCredentials credentials;
    private final Clock clock;

    public GmailReplies(GmailCredentials credentials, Clock clock) {
        this.credentials = credentials;
        this.clock = clock;
    }

    /** After the camel-http call: keeps Gmail's id, or throws what Gmail's refusal means. */
    public void classify(Exchange exchange, String providerId) {
        var in = exchange.getMessage();
        Integer status = in.getHeader(Exchange.HTTP_RESPONSE_CODE, Integer.class);
        String body = in.getBody(String.class);
        int code = status == null ? 0 : status;
        if (code >= 200 && code < 300) {
            String id = field(body, "id");
            if (id != null) {
                in.setHeader(RelayHeaders.PROVIDER_MESSAGE_ID, id);
            }
            return;
        }
        if (code == 401) {
            // The token was refused (revoked, or the delegation withdrawn since): fetch a new one next time.
            credentials.forget(exchange.getProperty(GmailRequest.DELEGATION, GmailCredentials.Delegation.class));
        }
        throw failure(providerId, code, in.getHeader("Retry-After", String.class), body, clock);
    }

    /** A Gmail API answer that is not 2xx (also for the probe). */
    static DeliveryException failure(String providerId, int status, String retryAfter, String body, Clock clock) {
        JsonNode error = json(body).path("error");
        List<String> reasons = new ArrayList<>();
        error.path("errors").forEach(e -> reasons.add(e.path("reason").asText()));
        String message = error.path("message").asText(null);
        String reply = "Gmail API HTTP " + status + (reasons.isEmpty() ? "" : " " + String.join(",", reasons))
                + (message != null ? ": " + HttpReplies.start(message)
                : body == null || body.isBlank() ? "" : ": " + HttpReplies.start(body));
        Duration wait = HttpReplies.retryAfter(retryAfter, clock);
        if (status == 429 || status >= 500 || reasons.stream().anyMatch(RATE_REASONS::contains)) {
            return new TransientDeliveryException(providerId, status, reply, wait, null);
        }
        if (status == 401 || status == 403) {
            return new ProviderConfigurationException(providerId, status, reply, null);
        }
        if (status == 400) {
            return new PermanentDeliveryException(providerId, status, reply, null);
        }
        DeliveryException byStatus = HttpReplies.classify(providerId, status, retryAfter, body, clock);
        if (byStatus == null) {
            return new TransientDeliveryException(providerId, status, reply, null);
        }
        return byStatus instanceof ProviderConfigurationException
                ? new ProviderConfigurationException(providerId, status, reply, null)
                : byStatus instanceof PermanentDeliveryException
                ? new PermanentDeliveryException(providerId, status, reply, null)
                : new TransientDeliveryException(providerId, status, reply, wait, null);
    }

    /** The token endpoint did not give the service account a token for {@code user}. */
    static DeliveryException tokenFailure(String providerId, String user, IOException failure, Clock clock) {
        HttpResponseException response = null;
        for (Throwable cause : Causes.chain(failure)) {
            if (cause instanceof HttpResponseException http) {
                response = http;
                break;
            }
        }
        if (response == null) {
            return new TransientDeliveryException(providerId, 0, "Google token endpoint not reached: "
                    + HttpReplies.start(String.valueOf(failure.getMessage())), failure);
        }
        int status = response.getStatusCode();
        JsonNode body = json(response.getContent());
        String error = body.path("error").asText("");
        String description = body.path("error_description").asText("");
        // A 401's body does not reach the library (the JDK's HTTP client drops it for a streamed POST).
        String reply = "Google token endpoint HTTP " + status + (error.isEmpty() ? "" : " " + error)
                + (description.isEmpty() ? status == 401 ? ": the service account may not act as this user for these "
                + "scopes (domain-wide delegation) or its key was refused" : "" : ": " + HttpReplies.start(description))
                + " (acting as " + user + ")";
        if (status == 429 || status >= 500) {
            return new TransientDeliveryException(providerId, status, reply,
                    HttpReplies.retryAfter(response.getHeaders().getRetryAfter(), clock), failure);
        }
        if ("invalid_grant".equals(error) && description.toLowerCase().contains("email or user id")) {
            // The sender is no user of the Workspace domain: no token for it, ever; other senders are fine.
            return new PermanentDeliveryException(providerId, status, reply, failure);
        }
        if (TOKEN_CONFIGURATION.contains(error) || "invalid_grant".equals(error) || (status >= 400 && status < 500)) {
            return new ProviderConfigurationException(providerId, status, reply, failure);
        }
        return new TransientDeliveryException(providerId, status, reply, failure);
    }

    private static String field(String body, String name) {
        JsonNode value = json(body).path(name);
        return value.isTextual() ? value.asText() : null;
    }

    private static JsonNode json(String body) {
        if (body == null || body.isBlank()) {
            return JSON.missingNode();
        }
        try {
            return JSON.readTree(body);
        } catch (IOException notJson) {
            return JSON.missingNode();
        }
    }
}
