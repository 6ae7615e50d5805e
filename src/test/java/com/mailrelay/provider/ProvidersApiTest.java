package com.mailrelay.provider;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.mailrelay.providers.ProviderInstance;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * GET /api/v1/providers and /{id}: every provider instance of the running routes with its type,
 * parameters (secrets masked), breaker, counts, last outcomes and last probe; admin key only.
 */
class ProvidersApiTest extends RelayTestSupport {

    static final String ADMIN = "admin-key";
    private static final String WRONG_PASSWORD = "health-wrong-secret-7f3a";

    @Autowired
    ProviderBreakers breakers;

    @Test
    void listsEveryProviderInstanceWithItsTypeAndParametersAndNeverASecret() {
        // Probes log in with the password: nothing of it may come back afterwards either.
        assertThat(test("probe-secure", "{}").statusCode()).isEqualTo(200);
        assertThat(test("probe-badauth", "{}").statusCode()).isEqualTo(502);

        HttpResponse<String> response = get(ADMIN, "/api/v1/providers");
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        String body = response.body();
        assertThat(body).doesNotContain(Upstreams.SECURE_PASSWORD, "s3c+r", "s3c%2Br", "%2B x", WRONG_PASSWORD);

        List<Map<String, Object>> providers = providers(body);
        assertThat(providers).extracting(p -> p.get("id"))
                .contains("default", "headers", "probe-first", "probe-second", "probe-secure", "probe-badauth");
        Map<String, Object> secure = providers.stream().filter(p -> p.get("id").equals("probe-secure")).findFirst()
                .orElseThrow();
        assertThat(secure).containsEntry("type", "smtp").containsEntry("route_id", "provider-probe-secure");
        @SuppressWarnings("unchecked")
        Map<String, Object> parameters = (Map<String, Object>) secure.get("parameters");
        assertThat(parameters)
                .containsEntry("password", ProviderInstance.MASK)
                .containsEntry("username", "relay-user")
                .containsEntry("scheme", "smtps")
                // placeholders resolved, template defaults filled in
                .containsEntry("port", String.valueOf(Upstreams.secure().getSmtps().getPort()))
                .containsEntry("poolSize", "32")
                .containsEntry("startTls", "false");
        assertThat(secure).containsKeys("breaker", "deliveries", "last_success", "last_error", "last_probe");
    }

    @Test
    void showsTheBreakerStateAndItsTransitionsAfterItIsForcedOpen() {
        ProviderBreakers.Transition before = last(breakers.transitions("probe-first"));
        breakers.breaker("probe-first").orElseThrow().getCircuitBreaker().transitionToOpenState();
        try {
            Map<String, Object> view = read(get(ADMIN, "/api/v1/providers/probe-first").body());
            @SuppressWarnings("unchecked")
            Map<String, Object> breaker = (Map<String, Object>) view.get("breaker");
            assertThat(breaker).containsEntry("state", "OPEN");
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> transitions = (List<Map<String, Object>>) breaker.get("transitions");
            assertThat(transitions).isNotEmpty();
            assertThat(transitions.get(transitions.size() - 1)).containsEntry("from", "CLOSED")
                    .containsEntry("to", "OPEN").containsKey("at");
            assertThat(last(breakers.transitions("probe-first"))).isNotEqualTo(before);
        } finally {
            breakers.breaker("probe-first").orElseThrow().transitionToCloseState();
        }
        Map<String, Object> view = read(get(ADMIN, "/api/v1/providers/probe-first").body());
        assertThat(view.get("breaker").toString()).contains("state=CLOSED");
    }

    @Test
    void theProbeResultIsAnsweredAndKept() {
        Map<String, Object> ok = read(test("probe-secure", "{}").body());
        assertThat(ok.get("probe").toString()).contains("status=ok", "authenticated as relay-user");
        assertThat(ok).doesNotContainKey("send");

        HttpResponse<String> refused = test("probe-badauth", "");
        assertThat(refused.statusCode()).isEqualTo(502);
        @SuppressWarnings("unchecked")
        Map<String, Object> probe = (Map<String, Object>) read(refused.body()).get("probe");
        assertThat(probe).containsEntry("status", "failed").containsEntry("failure", "configuration");
        assertThat(refused.body()).doesNotContain(WRONG_PASSWORD);

        HttpResponse<String> down = test("probe-down", "{}");
        assertThat(down.statusCode()).isEqualTo(502);
        assertThat(down.body()).contains("\"failure\":\"transient\"");

        Map<String, Object> kept = read(get(ADMIN, "/api/v1/providers/probe-badauth").body());
        assertThat(kept.get("last_probe").toString()).contains("status=failed", "failure=configuration");
    }

    @Test
    void anUnknownProviderIs404() {
        HttpResponse<String> response = get(ADMIN, "/api/v1/providers/no-such-provider");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.body()).contains("not_found", "no-such-provider");
        assertThat(test("no-such-provider", "{}").statusCode()).isEqualTo(404);
    }

    @Test
    void theAdminKeyIsRequired() {
        for (String path : List.of("/api/v1/providers", "/api/v1/providers/probe-first")) {
            assertThat(send(HttpRequest.newBuilder(uri(path)).GET().build()).statusCode()).isEqualTo(401);
            assertThat(get("via-probe-key", path).statusCode()).as("a workspace key").isEqualTo(401);
            assertThat(get("wrong-admin-key", path).statusCode()).isEqualTo(401);
        }
        HttpResponse<String> test = send(HttpRequest.newBuilder(uri("/api/v1/providers/probe-second/test"))
                .header("Authorization", "Bearer via-probe-key").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"to\": \"nobody@customer.test\"}")).build());
        assertThat(test.statusCode()).isEqualTo(401);
        assertThat(Upstreams.received(Upstreams.greenMail("spare"), "mail-relay.test-message").stream()
                .filter(m -> header(m, "To").contains("nobody@customer.test")).toList()).isEmpty();
    }

    static String header(jakarta.mail.internet.MimeMessage message, String name) {
        try {
            String value = message.getHeader(name, ",");
            return value == null ? "" : value;
        } catch (jakarta.mail.MessagingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ProviderBreakers.Transition last(List<ProviderBreakers.Transition> transitions) {
        return transitions.isEmpty() ? null : transitions.get(transitions.size() - 1);
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    HttpResponse<String> test(String provider, String body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/api/v1/providers/" + provider + "/test"))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + ADMIN);
        if (body.isEmpty()) {
            request.POST(HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        }
        return send(request.build());
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> providers(String body) {
        return (List<Map<String, Object>>) read(body).get("providers");
    }
}
