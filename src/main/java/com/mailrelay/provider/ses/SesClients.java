package com.mailrelay.provider.ses;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.provider.ProviderConfigurationException;
import jakarta.annotation.PreDestroy;
import org.springframework.stereotype.Component;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sesv2.SesV2Client;

/**
 * One {@link SesV2Client} per distinct set of an ses instance's connection parameters (region,
 * credentials, endpoint, timeout), made on first use and closed at shutdown. A client holds its
 * HTTP connections and, with the default credentials chain, a credentials cache: making one per
 * message would lose both. The SDK's own retries are off: the relay retries (and fails over) itself,
 * and a retry inside the call would only spend the breaker's deadline. The whole call is bounded by
 * that deadline (deadlineMillis); timeoutMillis bounds each connect and read.
 */
@Component
public class SesClients {

    /** What makes two instances' clients the same; the secret is part of it but never printed. */
    record Settings(String region, String accessKeyId, String secretAccessKey, String endpointOverride,
                    int timeoutMillis) {

        @Override
        public String toString() {
            return "ses " + region + (endpointOverride.isEmpty() ? "" : " at " + endpointOverride)
                    + (accessKeyId.isEmpty() ? " (default credentials)" : " key " + accessKeyId);
        }
    }

    private final Map<Settings, SesV2Client> clients = new ConcurrentHashMap<>();

    public SesV2Client client(String providerId, Settings settings) {
        return clients.computeIfAbsent(settings, s -> build(providerId, s));
    }

    private static SesV2Client build(String providerId, Settings settings) {
        if (settings.region().isBlank()) {
            throw new ProviderConfigurationException(providerId, 0, "provider " + providerId
                    + ": the ses template needs a region (e.g. eu-west-1)", null);
        }
        Duration timeout = Duration.ofMillis(settings.timeoutMillis());
        var builder = SesV2Client.builder()
                .region(Region.of(settings.region()))
                .credentialsProvider(credentials(providerId, settings))
                .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(timeout).socketTimeout(timeout))
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
        if (!settings.endpointOverride().isBlank()) {
            try {
                builder.endpointOverride(URI.create(settings.endpointOverride()));
            } catch (IllegalArgumentException e) {
                throw new ProviderConfigurationException(providerId, 0, "provider " + providerId
                        + ": endpointOverride is not a URL: " + e.getMessage(), e);
            }
        }
        return builder.build();
    }

    private static AwsCredentialsProvider credentials(String providerId, Settings settings) {
        if (settings.accessKeyId().isBlank()) {
            // Environment, system properties, profile files, web identity, container or instance role.
            return DefaultCredentialsProvider.builder().build();
        }
        if (settings.secretAccessKey().isBlank()) {
            throw new ProviderConfigurationException(providerId, 0, "provider " + providerId
                    + ": accessKeyId is set but secretAccessKey is empty", null);
        }
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(settings.accessKeyId(),
                settings.secretAccessKey()));
    }

    @PreDestroy
    void close() {
        clients.values().forEach(SesV2Client::close);
        clients.clear();
    }
}
