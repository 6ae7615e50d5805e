package com.mailrelay.provider.sendgrid;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.HttpReplies;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.ProviderProbe;
import com.mailrelay.provider.TransientDeliveryException;
import org.springframework.stereotype.Component;

/**
 * Probes a SendGrid instance with {@code GET /v3/scopes} (api-reference/api-key-permissions/retrieve-a-list-of-scopes-for-which-this-user-has-access: the
 * scopes of the key making the call): it checks the key and the base URL and that the key may
 * send (scope mail.send), and sends nothing.
 */
@Component
public class SendGridProbe implements ProviderProbe {

    static final String GLOBAL = "https://api.sendgrid.com";
    static final String EU = "https://api.eu.sendgrid.com";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public SendGridProbe(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String type() {
        return "sendgrid";
    }

    @Override
    public String probe(Map<String, String> parameters) {
        String providerId = parameters.getOrDefault("providerId", "sendgrid");
        String baseUrl = baseUrl(parameters);
        long timeout = Long.parseLong(parameters.getOrDefault("timeoutMillis", "30000"));
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + "/v3/scopes"))
                .timeout(Duration.ofMillis(timeout))
                .header("Authorization", "Bearer " + parameters.getOrDefault("apiKey", ""))
                .header("Accept", "application/json")
                .GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new TransientDeliveryException(providerId, 0, "SendGrid at " + baseUrl + " not reached: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientDeliveryException(providerId, 0, "probe interrupted", e);
        }
        DeliveryException failure = HttpReplies.classify(providerId, response.statusCode(),
                response.headers().firstValue("Retry-After").orElse(null), response.body(), clock);
        if (failure != null) {
            throw failure;
        }
        int scopes = 0;
        boolean send = false;
        try {
            for (JsonNode scope : JSON.readTree(response.body()).path("scopes")) {
                scopes++;
                send |= "mail.send".equals(scope.asText());
            }
        } catch (IOException notJson) {
            throw new TransientDeliveryException(providerId, response.statusCode(), "GET /v3/scopes answered "
                    + response.statusCode() + " without the scopes: " + HttpReplies.start(response.body()), notJson);
        }
        if (!send) {
            throw new ProviderConfigurationException(providerId, 403, "the SendGrid API key lacks the mail.send scope ("
                    + scopes + " scopes)", null);
        }
        return "SendGrid at " + baseUrl + ": API key valid, mail.send among its " + scopes + " scopes";
    }

    /** The instance's baseUrl, or its region's when the default (naming the region) was not resolved. */
    static String baseUrl(Map<String, String> parameters) {
        String baseUrl = parameters.get("baseUrl");
        if (baseUrl == null || baseUrl.isBlank() || baseUrl.contains("{{")) {
            return "eu".equalsIgnoreCase(parameters.get("region")) ? EU : GLOBAL;
        }
        return baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    }
}
