package com.mailrelay.provider.gmail;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.ProviderConfigurationException;
import com.mailrelay.provider.ProviderProbe;
import com.mailrelay.provider.TransientDeliveryException;
import org.springframework.stereotype.Component;

/**
 * Health probe of provider type "gmail": a delegated token for the instance's {@code probeUser}
 * (which proves the key, the domain-wide delegation and the scopes granted to the service
 * account), then Gmail's {@code users.getProfile} of that user. getProfile wants a read scope
 * (gmail.metadata, gmail.readonly...); with gmail.send alone Gmail answers 403
 * insufficientPermissions, which the probe reports as what it is — the delegation for sending
 * checked, the profile not readable — rather than as a failure. Sends nothing.
 */
@Component
public class GmailProbe implements ProviderProbe {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final GmailCredentials credentials;
    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    public GmailProbe(GmailCredentials credentials, Clock clock) {
        this.credentials = credentials;
        this.clock = clock;
    }

    @Override
    public String type() {
        return "gmail";
    }

    @Override
    public String probe(Map<String, String> parameters) {
        String providerId = parameters.getOrDefault("providerId", "gmail");
        String user = parameters.getOrDefault("probeUser", "").trim();
        if (user.isEmpty()) {
            throw new ProviderConfigurationException(providerId, 0, "provider " + providerId
                    + ": the gmail probe needs probeUser (a user of the domain the service account may act as)", null);
        }
        GmailCredentials.Delegation delegation = new GmailCredentials.Delegation(GmailRequest.account(
                parameters.get("serviceAccountKey"), parameters.get("serviceAccountKeyFile"),
                parameters.get("tokenUri"), parameters.get("scopes")), user);
        String token;
        try {
            token = credentials.token(providerId, delegation);
        } catch (IOException e) {
            throw GmailReplies.tokenFailure(providerId, user, e, clock);
        }
        String base = parameters.getOrDefault("baseUrl", "https://gmail.googleapis.com").replaceAll("/+$", "");
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/gmail/v1/users/"
                        + URLEncoder.encode(user, StandardCharsets.UTF_8) + "/profile"))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + token)
                .header("Accept", "application/json").GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new TransientDeliveryException(providerId, 0, "Gmail API not reached: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientDeliveryException(providerId, 0, "Gmail probe interrupted", e);
        }
        if (response.statusCode() == 200) {
            JsonNode profile = read(response.body());
            return "Gmail profile of " + profile.path("emailAddress").asText(user) + ": "
                    + profile.path("messagesTotal").asText("?") + " messages (token for " + user + " granted)";
        }
        DeliveryException failure = GmailReplies.failure(providerId, response.statusCode(),
                response.headers().firstValue("Retry-After").orElse(null), response.body(), clock);
        if (response.statusCode() == 403 && response.body() != null
                && response.body().contains("insufficientPermissions")) {
            return "token for " + user + " granted; users.getProfile not readable with the configured scopes ("
                    + failure.reply() + ")";
        }
        throw failure;
    }

    private static JsonNode read(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }
}
