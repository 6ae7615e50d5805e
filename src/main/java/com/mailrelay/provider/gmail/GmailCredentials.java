package com.mailrelay.provider.gmail;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.auth.oauth2.AccessToken;
import com.google.auth.oauth2.GoogleCredentials;
import com.google.auth.oauth2.ServiceAccountCredentials;
import com.mailrelay.provider.ProviderConfigurationException;
import org.springframework.stereotype.Component;

/**
 * Access tokens of a Google service account with domain-wide delegation, one per impersonated
 * user, through Google's auth library: {@link ServiceAccountCredentials} read from the key (JSON),
 * {@code createScoped}, {@code createDelegated(user)}; the library signs the JWT assertion (RS256),
 * exchanges it at the token endpoint and keeps the token until shortly before it expires. The
 * credentials are cached per service account and scopes, and per impersonated user (bounded:
 * senders come and go), so that a token is fetched once an hour per sender, not once per message.
 *
 * <p>The library's own retries of the token endpoint are off: the relay retries the message.
 */
@Component
public class GmailCredentials {

    /** One service account as an instance configures it. The key is part of it but never printed. */
    record Account(String key, String keyFile, String tokenUri, String scopes) {

        @Override
        public String toString() {
            return "service account " + (key.isEmpty() ? "from " + keyFile : "(inline key)")
                    + (tokenUri.isEmpty() ? "" : " at " + tokenUri) + " for " + scopes;
        }
    }

    /** Whose token: the account acting as this user. */
    record Delegation(Account account, String user) {
    }

    private static final ObjectMapper STRICT = new ObjectMapper();
    private static final ObjectMapper LENIENT = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_UNESCAPED_CONTROL_CHARS).build();

    private final Cache<Account, GoogleCredentials> accounts = Caffeine.newBuilder().maximumSize(100).build();
    private final Cache<Delegation, GoogleCredentials> delegated = Caffeine.newBuilder().maximumSize(10_000)
            .expireAfterAccess(Duration.ofHours(2)).build();

    /**
     * A valid access token of the account acting as {@code user}, refreshed when it is about to
     * expire. The I/O failure of the token endpoint is the caller's to classify
     * ({@link GmailReplies#tokenFailure}).
     */
    public String token(String providerId, Delegation delegation) throws IOException {
        GoogleCredentials credentials = delegated.get(delegation,
                d -> account(providerId, d.account()).createDelegated(d.user()));
        credentials.refreshIfExpired();
        AccessToken token = credentials.getAccessToken();
        if (token == null || token.getTokenValue() == null) {
            throw new IOException("the token endpoint gave no access token");
        }
        return token.getTokenValue();
    }

    /** Drops a user's token (Gmail refused it: 401), so that the next message fetches a new one. */
    public void forget(Delegation delegation) {
        if (delegation != null) {
            delegated.invalidate(delegation);
        }
    }

    private GoogleCredentials account(String providerId, Account account) {
        return accounts.get(account, a -> load(providerId, a));
    }

    private static GoogleCredentials load(String providerId, Account account) {
        ServiceAccountCredentials credentials;
        try (InputStream json = open(providerId, account)) {
            credentials = ServiceAccountCredentials.fromStream(json);
        } catch (IOException | RuntimeException e) {
            throw new ProviderConfigurationException(providerId, 0, "provider " + providerId + ": the service account "
                    + "key " + (account.key().isEmpty() ? "file " + account.keyFile() : "(serviceAccountKey)")
                    + " cannot be read: " + e.getMessage(), null);
        }
        ServiceAccountCredentials.Builder builder = credentials.toBuilder().setDefaultRetriesEnabled(false);
        if (!account.tokenUri().isEmpty()) {
            builder.setTokenServerUri(URI.create(account.tokenUri()));
        }
        List<String> scopes = Arrays.stream(account.scopes().split("[\\s,]+")).filter(s -> !s.isBlank()).toList();
        return builder.build().createScoped(scopes);
    }

    /**
     * The inline key as strict JSON. The template hands it over as a quoted argument of a bean
     * method call, whose evaluation (Camel's simple language) turns the JSON escapes of the private
     * key's line breaks into real ones; read leniently and written again, it is the key file as issued.
     */
    static String strictJson(String key) throws IOException {
        return STRICT.writeValueAsString(LENIENT.readTree(key));
    }

    private static InputStream open(String providerId, Account account) throws IOException {
        if (!account.key().isEmpty()) {
            return new ByteArrayInputStream(strictJson(account.key()).getBytes(StandardCharsets.UTF_8));
        }
        if (account.keyFile().isEmpty()) {
            throw new ProviderConfigurationException(providerId, 0, "provider " + providerId
                    + ": the gmail template needs serviceAccountKey or serviceAccountKeyFile", null);
        }
        try {
            return Files.newInputStream(Path.of(account.keyFile()));
        } catch (NoSuchFileException e) {
            throw new IOException("no such file");
        }
    }
}
