package com.mailrelay.provider.mailgun;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
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
 * Mailgun's health probe: {@code GET /v3/domains/<domain>} (documentation.mailgun.com, Domains:
 * "Get domain"), which needs the same key and domain as a send and sends nothing. A 200 says the
 * key is good and the domain exists, with its state ("active", "unverified", "disabled"); the
 * answer is classified as a send's would be (401/403/404 a configuration fault, 429/5xx transient).
 */
@Component
public class MailgunProbe implements ProviderProbe {

    /** Mailgun's US and EU API addresses (documentation.mailgun.com: "Servers"). */
    static final String US = "https://api.mailgun.net";
    static final String EU = "https://api.eu.mailgun.net";

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    public MailgunProbe(Clock clock) {
        this.clock = clock;
    }

    @Override
    public String type() {
        return "mailgun";
    }

    /** The template's rule: region eu while the base URL is the US default means Mailgun's EU API. */
    public static String baseUrl(String region, String baseUrl) {
        String given = baseUrl == null || baseUrl.isBlank() ? US : baseUrl.strip();
        return "eu".equalsIgnoreCase(region) && US.equals(given) ? EU : given;
    }

    @Override
    public String probe(Map<String, String> parameters) {
        String providerId = parameters.get("providerId");
        String domain = parameters.get("domain");
        String base = baseUrl(parameters.get("region"), parameters.get("baseUrl"));
        String credentials = Base64.getEncoder().encodeToString(("api:" + parameters.get("apiKey"))
                .getBytes(StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v3/domains/"
                        + URLEncoder.encode(domain, StandardCharsets.UTF_8)))
                .timeout(Duration.ofMillis(Long.parseLong(parameters.getOrDefault("timeoutMillis", "30000"))))
                .header("Authorization", "Basic " + credentials)
                .header("Accept", "application/json")
                .GET().build();
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new TransientDeliveryException(providerId, 0, "Mailgun at " + base + " not reached: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientDeliveryException(providerId, 0, "probe interrupted", e);
        }
        int status = response.statusCode();
        DeliveryException failure = HttpReplies.classify(providerId, status,
                response.headers().firstValue("Retry-After").orElse(null), response.body(), clock);
        if (failure == null) {
            JsonNode answer = read(response.body());
            return "domain " + answer.path("domain").path("name").asText(domain) + " is "
                    + answer.path("domain").path("state").asText("known") + " at " + base;
        }
        if (status == 404) {
            throw new ProviderConfigurationException(providerId, status, failure.reply(), null);
        }
        throw failure;
    }

    private static JsonNode read(String body) {
        try {
            return JSON.readTree(body == null ? "{}" : body);
        } catch (IOException notJson) {
            return JSON.createObjectNode();
        }
    }
}
