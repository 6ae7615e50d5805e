package com.mailrelay.provider;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.core.type.TypeReference;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.matching.MatchResult;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.provider.gmail.GmailProbe;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Provider type "gmail" against stubs of Google's token endpoint and the Gmail API (the shared
 * provider stub, under /google-token and /gmail). The test makes the service account: an RSA key
 * pair and the JSON key file Google would issue, its token_uri at the stub. The stub token endpoint
 * checks the JWT assertion the relay's auth library signs — its RS256 signature with the test's
 * public key, iss the service account, sub the message's sender (the user impersonated), scope
 * gmail.send, aud Google's token audience — and only then gives a token, one per sender; the send must carry
 * that token and the raw MIME. Error answers are Google's documented bodies.
 */
class GmailProviderTest extends RelayTestSupport {

    private static final String RELAY_ACCOUNT = "relay-sender@relay-test.iam.gserviceaccount.com";
    private static final String UNDELEGATED_ACCOUNT = "no-delegation@relay-test.iam.gserviceaccount.com";
    private static final String SEND = "/gmail/upload/gmail/v1/users/me/messages/send?uploadType=media";
    private static final String TOKEN = "/google-token/v4/token";
    private static final String KEY_TOKEN_URI = "/google-token/token";
    /**
     * The assertion's audience is Google's token endpoint whatever URI the token request goes to
     * ("Using OAuth 2.0 for Server to Server Applications": aud is always this value).
     */
    private static final String AUDIENCE = "https://oauth2.googleapis.com/token";
    private static final KeyPair KEYS = rsa();

    @Autowired
    GmailProbe probe;

    @Autowired
    ProviderBreakers breakers;

    @BeforeAll
    static void serviceAccountsAndStubs() throws Exception {
        WireMockServer google = Upstreams.providerApis();
        int port = google.port();
        Files.createDirectories(Path.of("target"));
        Files.writeString(Path.of("target/test-gmail-" + port + "-relay.json"), serviceAccount(RELAY_ACCOUNT, port));
        Files.writeString(Path.of("target/test-gmail-" + port + "-undelegated.json"),
                serviceAccount(UNDELEGATED_ACCOUNT, port));
        for (String sender : List.of("alice", "bob", "frank", "grace", "postmaster")) {
            google.stubFor(WireMock.post(urlEqualTo(TOKEN)).andMatching(request -> MatchResult.of(
                            valid(request, RELAY_ACCOUNT, sender + "@gmail-relay.test")))
                    .willReturn(json(200, "{\"access_token\":\"ya29." + sender + "-token\",\"expires_in\":3599,"
                            + "\"token_type\":\"Bearer\"}")));
        }
        // The domain has not granted this service account delegation (RFC 6749 §5.2 error body, Google's text).
        google.stubFor(WireMock.post(urlEqualTo(KEY_TOKEN_URI)).andMatching(request -> MatchResult.of(
                        valid(request, UNDELEGATED_ACCOUNT, null)))
                .willReturn(json(401, "{\"error\":\"unauthorized_client\",\"error_description\":\"Client is "
                        + "unauthorized to retrieve access tokens using this method, or client not authorized for any "
                        + "of the scopes requested.\"}")));
        for (String sender : List.of("alice", "bob")) {
            google.stubFor(send(sender).willReturn(json(200, "{\"id\":\"18c" + sender + "0f00d\",\"threadId\":\"18c"
                    + sender + "0f00d\",\"labelIds\":[\"SENT\"]}")));
        }
        google.stubFor(send("frank").willReturn(json(400, "{\"error\":{\"code\":400,\"message\":\"Invalid To header\","
                + "\"errors\":[{\"message\":\"Invalid To header\",\"domain\":\"global\",\"reason\":\"invalidArgument\"}],"
                + "\"status\":\"INVALID_ARGUMENT\"}}")));
        google.stubFor(send("grace").inScenario("gmail-rate").whenScenarioStateIs(Scenario.STARTED)
                .willReturn(json(403, "{\"error\":{\"code\":403,\"message\":\"User-rate limit exceeded.\",\"errors\":"
                        + "[{\"message\":\"User-rate limit exceeded.\",\"domain\":\"usageLimits\",\"reason\":"
                        + "\"userRateLimitExceeded\"}],\"status\":\"PERMISSION_DENIED\"}}"))
                .willSetStateTo("calm"));
        google.stubFor(send("grace").inScenario("gmail-rate").whenScenarioStateIs("calm")
                .willReturn(json(200, "{\"id\":\"18cgrace0f00d\",\"threadId\":\"18cgrace0f00d\",\"labelIds\":[\"SENT\"]}")));
        google.stubFor(WireMock.get(urlEqualTo("/gmail/gmail/v1/users/postmaster%40gmail-relay.test/profile"))
                .withHeader("Authorization", equalTo("Bearer ya29.postmaster-token"))
                .willReturn(json(200, "{\"emailAddress\":\"postmaster@gmail-relay.test\",\"messagesTotal\":1234,"
                        + "\"threadsTotal\":1000,\"historyId\":\"98765\"}")));
    }

    @Test
    void sendsTheRawMimeAsTheSenderWithItsDelegatedTokenAndReachesEveryEnvelopeRecipient() {
        Map<String, Object> message = new HashMap<>(message("alice@gmail-relay.test", "carol@customer.test", "via gmail"));
        message.put("bcc", List.of("dave@customer.test"));
        String id = submit("via-gmail", message);
        awaitStatus(id, "SENT");
        Map<String, Object> row = row(id);
        assertThat(row.get("provider_id")).isEqualTo("gmail");
        assertThat(row.get("provider_message_id")).isEqualTo("18calice0f00d");

        List<LoggedRequest> sends = sends("alice");
        assertThat(sends).hasSize(1);
        byte[] stored = (byte[]) row.get("raw_mime");
        String storedText = new String(stored, StandardCharsets.UTF_8);
        // Gmail reaches the To, Cc and Bcc headers only: the Bcc of the envelope is given as a header.
        byte[] expected = storedText.contains("dave@customer.test") ? stored
                : concat("Bcc: dave@customer.test\r\n".getBytes(StandardCharsets.US_ASCII), stored);
        assertThat(sends.get(0).getBody()).isEqualTo(expected);
        assertThat(sends.get(0).getHeader("Content-Type")).startsWith("message/rfc822");
        // No relay header reaches Google.
        assertThat(sends.get(0).getAllHeaderKeys()).noneMatch(name -> name.toLowerCase().startsWith("relay"));

        // A second message of the same sender reuses the token.
        String second = submit("via-gmail", message("alice@gmail-relay.test", "carol@customer.test", "via gmail again"));
        awaitStatus(second, "SENT");
        assertThat(sends("alice")).hasSize(2);
        assertThat(tokenRequests(TOKEN, "alice@gmail-relay.test")).hasSize(1);
    }

    @Test
    void anUndelegatedServiceAccountIsAConfigurationFaultThatFailsOverWithoutUsingAnAttempt() {
        String id = submit("via-gmail", message("bob@gmail-relay.test", "ann@denied.test", "undelegated"));
        awaitStatus(id, "SENT");
        Map<String, Object> row = row(id);
        assertThat(row.get("provider_id")).isEqualTo("gmail");
        assertThat(row.get("provider_message_id")).isEqualTo("18cbob0f00d");
        assertThat(row.get("attempts")).isEqualTo(1);
        // The refused request was a properly signed assertion of the undelegated account, acting as bob.
        assertThat(tokenRequests(KEY_TOKEN_URI, "bob@gmail-relay.test")).isNotEmpty();
        assertThat(breakers.breaker("gmail-undelegated").orElseThrow().getCircuitBreakerState()).isEqualTo("OPEN");
    }

    @Test
    void aRefusedTokenWithNowhereToFailOverLeavesTheMessageWaitingWithItsAttemptsUnchanged() {
        String id = submit("via-gmail", message("erin@gmail-relay.test", "ben@stuck.test", "stuck"));
        UUID uuid = UUID.fromString(id);
        // Deferred without using an attempt, until its breaker (open 600 s) lets a trial call through.
        Map<String, Object> deferred = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .until(() -> jdbc.queryForMap("select status, attempts, last_error, next_attempt_at from messages "
                        + "where id = ?", uuid), r -> "DEFERRED".equals(r.get("status")));
        assertThat(deferred.get("attempts")).isEqualTo(0);
        assertThat(String.valueOf(deferred.get("last_error"))).contains("HTTP 401").contains("domain-wide delegation")
                .contains("erin@gmail-relay.test");
        Object at = deferred.get("next_attempt_at");
        Instant next = at instanceof java.time.OffsetDateTime offset ? offset.toInstant()
                : ((java.sql.Timestamp) at).toInstant();
        assertThat(next).isAfter(Instant.now().plusSeconds(500));
        assertThat(eventTypes(id)).containsExactly("deferral");
        assertThat(tokenRequests(KEY_TOKEN_URI, "erin@gmail-relay.test")).isNotEmpty();
        assertThat(sends("erin")).isEmpty();
    }

    @Test
    void anInvalidArgumentIsPermanent() {
        String id = submit("via-gmail", message("frank@gmail-relay.test", "carol@customer.test", "invalid"));
        awaitStatus(id, "FAILED");
        assertThat(eventTypes(id)).contains("hard_bounce").doesNotContain("deferral");
        assertThat((String) row(id).get("last_error")).contains("400").contains("invalidArgument")
                .contains("Invalid To header");
    }

    @Test
    void aUserRateLimitIsTransientNotAConfigurationFault() {
        String id = submit("via-gmail", message("grace@gmail-relay.test", "carol@customer.test", "rate limited"));
        awaitStatus(id, "SENT");
        assertThat(eventTypes(id)).contains("deferral").doesNotContain("hard_bounce");
        Map<String, Object> row = row(id);
        assertThat(row.get("attempts")).isEqualTo(2);
        assertThat(row.get("provider_message_id")).isEqualTo("18cgrace0f00d");
        assertThat(breakers.breaker("gmail").orElseThrow().getCircuitBreakerState()).isEqualTo("CLOSED");
    }

    @Test
    void theProbeReadsTheProbeUsersProfileWithAnInlineKey() throws Exception {
        int port = Upstreams.providerApis().port();
        String state = probe.probe(Map.of("providerId", "gmail", "serviceAccountKey", serviceAccount(RELAY_ACCOUNT, port),
                "tokenUri", url(TOKEN), "baseUrl", "http://127.0.0.1:" + port + "/gmail",
                "probeUser", "postmaster@gmail-relay.test"));
        assertThat(state).contains("postmaster@gmail-relay.test").contains("1234 messages");
        assertThat(tokenRequests(TOKEN, "postmaster@gmail-relay.test")).isNotEmpty();
        assertThat(sends("postmaster")).isEmpty();
    }

    /**
     * The template hands serviceAccountKey to gmailRequest as a quoted argument of its method call,
     * which Camel evaluates (its simple language turns the JSON's escaped line breaks into real
     * ones): what arrives still signs an assertion the token endpoint accepts.
     */
    @Test
    void anInlineKeyThroughTheTemplatesMethodCallStillSigns() throws Exception {
        int port = Upstreams.providerApis().port();
        String key = serviceAccount(RELAY_ACCOUNT, port);
        KeyCatcher catcher = new KeyCatcher();
        try (org.apache.camel.impl.DefaultCamelContext camel = new org.apache.camel.impl.DefaultCamelContext()) {
            camel.getRegistry().bind("gmailRequest", catcher);
            camel.addRoutes(new org.apache.camel.builder.RouteBuilder() {
                @Override
                public void configure() {
                    // As gmail.kamelet.yaml calls it, the key in place of '{{serviceAccountKey}}'.
                    from("direct:in").bean("gmailRequest", "prepare(*, gmail, '" + key + "', '', '', '')");
                }
            });
            camel.start();
            camel.createProducerTemplate().sendBody("direct:in", "x");
        }
        assertThat(catcher.key).isNotNull();
        assertThat(catcher.keyFile).isEmpty();
        String state = probe.probe(Map.of("providerId", "gmail", "serviceAccountKey", catcher.key,
                "tokenUri", url(TOKEN), "baseUrl", "http://127.0.0.1:" + port + "/gmail",
                "probeUser", "postmaster@gmail-relay.test"));
        assertThat(state).contains("1234 messages");
    }

    /** Stands in for gmailRequest: keeps what the method call gave it. */
    public static class KeyCatcher {
        volatile String key;
        volatile String keyFile;

        public void prepare(org.apache.camel.Exchange exchange, String providerId, String serviceAccountKey,
                            String serviceAccountKeyFile, String tokenUri, String scopes) {
            key = serviceAccountKey;
            keyFile = serviceAccountKeyFile;
        }
    }

    // ---- the service account and the stub's checks ----------------------------------------

    private static com.github.tomakehurst.wiremock.client.MappingBuilder send(String sender) {
        return WireMock.post(urlEqualTo(SEND)).withHeader("Authorization", equalTo("Bearer ya29." + sender + "-token"))
                .withHeader("Content-Type", equalTo("message/rfc822"));
    }

    private static List<LoggedRequest> sends(String sender) {
        return Upstreams.providerApis().findAll(postRequestedFor(urlEqualTo(SEND))
                .withHeader("Authorization", equalTo("Bearer ya29." + sender + "-token")));
    }

    /** The requests to a token endpoint that asked, with a valid assertion, to act as {@code user}. */
    private static List<LoggedRequest> tokenRequests(String path, String user) {
        return Upstreams.providerApis().findAll(postRequestedFor(urlEqualTo(path))).stream()
                .filter(request -> user.equals(claims(request).get("sub"))).toList();
    }

    /**
     * Whether the request is a JWT-bearer grant whose assertion is signed (RS256) by the test's key
     * and names this account, subject (null: any), the gmail.send scope and Google's token audience.
     */
    private static boolean valid(Request request, String account, String subject) {
        Map<String, String> form = form(request.getBodyAsString());
        if (!"urn:ietf:params:oauth:grant-type:jwt-bearer".equals(form.get("grant_type"))
                || form.get("assertion") == null) {
            return false;
        }
        String[] parts = form.get("assertion").split("\\.");
        if (parts.length != 3) {
            return false;
        }
        try {
            Map<String, Object> header = decode(parts[0]);
            Signature rs256 = Signature.getInstance("SHA256withRSA");
            rs256.initVerify(KEYS.getPublic());
            rs256.update((parts[0] + "." + parts[1]).getBytes(StandardCharsets.US_ASCII));
            if (!"RS256".equals(header.get("alg")) || !rs256.verify(Base64.getUrlDecoder().decode(parts[2]))) {
                return false;
            }
        } catch (Exception unreadable) {
            return false;
        }
        Map<String, Object> claims = decode(parts[1]);
        long now = Instant.now().getEpochSecond();
        long issued = ((Number) claims.get("iat")).longValue();
        long expires = ((Number) claims.get("exp")).longValue();
        return account.equals(claims.get("iss")) && (subject == null || subject.equals(claims.get("sub")))
                && "https://www.googleapis.com/auth/gmail.send".equals(claims.get("scope"))
                && AUDIENCE.equals(claims.get("aud")) && Math.abs(now - issued) < 300 && expires - issued <= 3600;
    }

    private static Map<String, Object> claims(LoggedRequest request) {
        String assertion = form(request.getBodyAsString()).get("assertion");
        return assertion == null || assertion.split("\\.").length != 3 ? Map.of() : decode(assertion.split("\\.")[1]);
    }

    private static Map<String, String> form(String body) {
        Map<String, String> form = new LinkedHashMap<>();
        for (String pair : body.split("&")) {
            int equals = pair.indexOf('=');
            if (equals > 0) {
                form.put(URLDecoder.decode(pair.substring(0, equals), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8));
            }
        }
        return form;
    }

    private static Map<String, Object> decode(String part) {
        try {
            return JSON.readValue(Base64.getUrlDecoder().decode(part), new TypeReference<>() { });
        } catch (java.io.IOException | IllegalArgumentException e) {
            return Map.of();
        }
    }

    /** A service account key file as Google issues it, with the test's private key and the stub's token URI. */
    private static String serviceAccount(String email, int port) {
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(
                        KEYS.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n";
        Map<String, Object> key = new LinkedHashMap<>();
        key.put("type", "service_account");
        key.put("project_id", "relay-test");
        key.put("private_key_id", "3f1c0ffee0ddba11");
        key.put("private_key", pem);
        key.put("client_email", email);
        key.put("client_id", "109876543210987654321");
        key.put("auth_uri", "https://accounts.google.com/o/oauth2/auth");
        key.put("token_uri", "http://127.0.0.1:" + port + KEY_TOKEN_URI);
        return write(key);
    }

    private static String url(String path) {
        return "http://127.0.0.1:" + Upstreams.providerApis().port() + path;
    }

    private static ResponseDefinitionBuilder json(int status, String body) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json; charset=UTF-8").withBody(body);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static KeyPair rsa() {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            return generator.generateKeyPair();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
