package com.mailrelay.http;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import com.mailrelay.support.RelayInstances;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With management.server.port set, actuator lives on that port only (bound here to loopback, as
 * the README asks): the public port no longer serves /actuator/prometheus at all, and the
 * management port serves it to whoever reaches that address.
 */
class ManagementPortTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void actuatorMovesToTheManagementPort() throws Exception {
        try (ConfigurableApplicationContext relay = RelayInstances.start("management_port",
                List.of("management.server.port=0", "management.server.address=127.0.0.1"))) {
            int port = Integer.parseInt(relay.getEnvironment().getProperty("local.server.port"));
            int management = Integer.parseInt(relay.getEnvironment().getProperty("local.management.port"));
            assertThat(management).isNotEqualTo(port);

            // The public port: no actuator there (the admin key opens nothing).
            assertThat(get(port, "/actuator/prometheus", "admin-key").statusCode()).isIn(401, 404);
            assertThat(get(port, "/actuator/prometheus", null).statusCode()).isEqualTo(401);

            HttpResponse<String> metrics = get(management, "/actuator/prometheus", null);
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("jvm_");
            assertThat(get(management, "/actuator/health", null).body()).contains("\"status\":\"UP\"");
        }
    }

    private static HttpResponse<String> get(int port, String path, String key) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
