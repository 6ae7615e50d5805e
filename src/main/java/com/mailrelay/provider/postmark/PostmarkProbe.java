package com.mailrelay.provider.postmark;

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
 * Postmark's health probe: {@code GET /server} with the server token (postmarkapp.com/developer/api/server-api,
 * "Get the server"), which sends nothing. A 200 says the token is good and names the server; a
 * refusal is classified as a send's would be (401 / ErrorCode 10 a configuration fault, 5xx transient).
 */
@Component
public class PostmarkProbe implements ProviderProbe {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    public PostmarkProbe(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String type() {
        return "postmark";
    }

    @Override
    public String probe(Map<String, String> parameters) {
        String providerId = parameters.get("providerId");
        String base = parameters.getOrDefault("baseUrl", "https://api.postmarkapp.com").strip();
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/server"))
                .timeout(Duration.ofMillis(Long.parseLong(parameters.getOrDefault("timeoutMillis", "30000"))))
                .header("Accept", "application/json")
                .header("X-Postmark-Server-Token", String.valueOf(parameters.get("serverToken")))
                .GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new TransientDeliveryException(providerId, 0, "Postmark at " + base + " not reached: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientDeliveryException(providerId, 0, "probe interrupted", e);
        }
        JsonNode answer = read(response.body());
        int status = response.statusCode();
        String text = answer.path("Message").isTextual() ? answer.path("Message").asText() : response.body();
        if (status >= 200 && status < 300) {
            return "server " + answer.path("Name").asText("?") + " (ID " + answer.path("ID").asText("?") + ") at " + base;
        }
        if (PostmarkReplies.CONFIGURATION.contains(answer.path("ErrorCode").asInt(-1))) {
            throw new ProviderConfigurationException(providerId, status, "HTTP " + status + " ErrorCode "
                    + answer.path("ErrorCode").asInt() + ": " + text, null);
        }
        DeliveryException failure = HttpReplies.classify(providerId, status,
                response.headers().firstValue("Retry-After").orElse(null), text, clock);
        throw failure;
    }

    private static JsonNode read(String body) {
        try {
            JsonNode node = JSON.readTree(body == null || body.isBlank() ? "{}" : body);
            return node == null ? JSON.createObjectNode() : node;
        } catch (IOException notJson) {
            return JSON.createObjectNode();
        }
    }
}
