package com.mailrelay.tenants;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.ingress.smtp.SmtpIngress;
import com.mailrelay.support.RelayInstances;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Two relay instances on one database: a workspace created through the admin API of instance A
 * accepts mail on instance B within seconds, without a restart; a revoked key is refused on both;
 * a rotated SMTP password works at once on A (and within seconds on B), and the old one does not.
 */
class WorkspaceInstancesTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Well above relay.tenants.refresh-interval (1 s): the time a change may take to reach the other instance. */
    private static final Duration WITHIN = Duration.ofSeconds(5);

    @Test
    void aWorkspaceMadeOnOneInstanceWorksOnTheOtherAndRevocationAndRotationReachBoth() throws Exception {
        String database = "tenants_" + Long.toHexString(System.nanoTime());
        String id = "twin-" + Long.toHexString(System.nanoTime());
        try (ConfigurableApplicationContext a = RelayInstances.start(database, List.of("relay.worker.enabled=false"));
             ConfigurableApplicationContext b = RelayInstances.start(database, List.of("relay.worker.enabled=false"))) {
            Relay one = new Relay(a);
            Relay other = new Relay(b);

            // Made on A, with a key and an SMTP user.
            HttpResponse<String> created = one.call("POST", "/api/v1/workspaces", "admin-key",
                    Map.of("id", id, "key_name", "ci", "settings", Map.of("sender_domains", List.of(id + ".test"))));
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            Instant made = Instant.now();
            @SuppressWarnings("unchecked")
            String secret = (String) ((Map<String, Object>) read(created.body()).get("api_key")).get("secret");
            HttpResponse<String> user = one.call("POST", "/api/v1/workspaces/" + id + "/smtp-users", "admin-key",
                    Map.of("username", id, "password", "first-password-" + id));
            assertThat(user.statusCode()).as(user.body()).isEqualTo(201);

            // A accepts at once; B within seconds, both over REST and SMTP.
            assertThat(one.send(secret, id).statusCode()).isEqualTo(202);
            await().atMost(WITHIN).pollInterval(Duration.ofMillis(100))
                    .until(() -> other.send(secret, id).statusCode() == 202);
            System.out.printf("a workspace made on instance A accepted mail on instance B after %d ms%n",
                    Duration.between(made, Instant.now()).toMillis());
            await().atMost(WITHIN).pollInterval(Duration.ofMillis(100))
                    .until(() -> other.login(id, "first-password-" + id).startsWith("235"));

            // Rotated on A: there the new password works at once and the old one no longer; B follows.
            HttpResponse<String> rotated = one.call("POST", "/api/v1/workspaces/" + id + "/smtp-users/" + id
                    + "/rotate", "admin-key", Map.of("password", "second-password-" + id));
            assertThat(rotated.statusCode()).as(rotated.body()).isEqualTo(200);
            assertThat(one.login(id, "second-password-" + id)).startsWith("235");
            assertThat(one.login(id, "first-password-" + id)).startsWith("535");
            await().atMost(WITHIN).pollInterval(Duration.ofMillis(100))
                    .until(() -> other.login(id, "second-password-" + id).startsWith("235"));
            assertThat(other.login(id, "first-password-" + id)).startsWith("535");

            // Revoked on B: refused there at once, on A within seconds.
            assertThat(other.call("DELETE", "/api/v1/workspaces/" + id + "/api-keys/ci", "admin-key", null)
                    .statusCode()).isEqualTo(200);
            assertThat(other.send(secret, id).statusCode()).isEqualTo(401);
            await().atMost(WITHIN).pollInterval(Duration.ofMillis(100))
                    .until(() -> one.send(secret, id).statusCode() == 401);

            // Every accepted message is in the shared database, in the new workspace.
            Long stored = a.getBean(org.springframework.jdbc.core.JdbcTemplate.class).queryForObject(
                    "select count(*) from messages where workspace_id = ?", Long.class, id);
            assertThat(stored).isEqualTo(one.accepted + other.accepted);
        }
    }

    /** One instance over its real HTTP and SMTP ports. */
    private static final class Relay {
        private final int httpPort;
        private final int smtpPort;
        private long accepted;

        Relay(ConfigurableApplicationContext context) {
            this.httpPort = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
            this.smtpPort = context.getBean(SmtpIngress.class).port();
        }

        HttpResponse<String> call(String method, String path, String key, Object body) throws Exception {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                    .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + key);
            if (body == null) {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            } else {
                request.header("Content-Type", "application/json")
                        .method(method, HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
            }
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }

        HttpResponse<String> send(String key, String workspace) throws Exception {
            HttpResponse<String> response = call("POST", "/api/v1/messages", key, Map.of("from",
                    "app@" + workspace + ".test", "to", List.of("kim@customer.test"), "subject", "hello",
                    "text", "hello"));
            if (response.statusCode() == 202) {
                accepted++;
            }
            return response;
        }

        String login(String user, String password) {
            try (SmtpConversation smtp = SmtpConversation.open(smtpPort)) {
                return smtp.login(user, password);
            }
        }
    }

    private static Map<String, Object> read(String json) throws Exception {
        return JSON.readValue(json, new TypeReference<>() { });
    }
}
