package com.mailrelay.provider;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The providers component of /actuator/health names a provider whose breaker is open or whose
 * probe failed, stays UP while other providers are up, and shows details to the admin key only.
 */
class ProvidersHealthTest extends RelayTestSupport {

    @Autowired
    ProviderBreakers breakers;

    @Test
    void aProviderWithAnOpenBreakerOrAFailedProbeIsShownDown() {
        send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/providers/probe-badauth/test"))
                .header("Authorization", "Bearer " + ProvidersApiTest.ADMIN)
                .POST(HttpRequest.BodyPublishers.noBody()).build());
        breakers.breaker("probe-first").orElseThrow().transitionToOpenState();
        try {
            HttpResponse<String> response = get(ProvidersApiTest.ADMIN, "/actuator/health");
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            Map<String, Object> providers = component(read(response.body()));
            assertThat(providers).containsEntry("status", "UP");
            String details = providers.get("details").toString();
            assertThat(details).contains("probe-first={status=DOWN, type=smtp, breaker=OPEN",
                    "probe-badauth={status=DOWN", "probe=failed: ", "probe-second={status=UP");
            assertThat(details).contains("down=[").contains("probe-first").contains("probe-badauth");
            assertThat(details).doesNotContain("health-wrong-secret-7f3a");
        } finally {
            breakers.breaker("probe-first").orElseThrow().transitionToCloseState();
        }
        Map<String, Object> after = component(read(get(ProvidersApiTest.ADMIN, "/actuator/health").body()));
        assertThat(after.get("details").toString()).contains("probe-first={status=UP");
    }

    @Test
    void detailsOnlyWithTheAdminKey() {
        HttpResponse<String> anonymous = send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/actuator/health")).GET().build());
        assertThat(anonymous.statusCode()).isEqualTo(200);
        assertThat(anonymous.body()).contains("\"status\":\"UP\"").doesNotContain("providers", "probe-first");
        assertThat(get("via-probe-key", "/actuator/health").body()).doesNotContain("providers", "probe-first");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> component(Map<String, Object> health) {
        return (Map<String, Object>) ((Map<String, Object>) health.get("components")).get("providers");
    }
}
