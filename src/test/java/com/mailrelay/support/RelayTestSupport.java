package com.mailrelay.support;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.ingress.smtp.SmtpIngress;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Import;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Base of the end-to-end tests: one relay (cached across test classes) on the test database,
 * wired to the upstreams of {@link Upstreams} by test-routes/. Talks to it over real HTTP and
 * reads the queue with SQL.
 */
@CamelSpringBootTest
@AutoConfigureObservability
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = RelayTestSupport.TEST_CONFIG)
@ActiveProfiles("test")
@Import(DatabaseOutage.class)
public abstract class RelayTestSupport {

    /** Tests read only the built-in defaults and application-test.yml, never the operator's ./application.yml. */
    public static final String TEST_CONFIG = "spring.config.location=classpath:/";

    protected static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @DynamicPropertySource
    static void upstreams(DynamicPropertyRegistry registry) {
        Upstreams.properties().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("relay.workspaces.esp.inbound.sendgrid-public-key", ProviderKeys::sendgridPublicKey);
    }

    @LocalServerPort
    protected int port;

    @Autowired
    protected JdbcTemplate jdbc;

    @Autowired
    protected SmtpIngress smtp;

    /** A Jakarta Mail client of the relay's SMTP ingress: STARTTLS (any certificate), AUTH PLAIN. */
    protected static Properties smtpClientProperties() {
        Properties properties = new Properties();
        properties.put("mail.smtp.auth", "true");
        properties.put("mail.smtp.starttls.enable", "true");
        properties.put("mail.smtp.starttls.required", "true");
        properties.put("mail.smtp.ssl.trust", "*");
        properties.put("mail.smtp.ssl.checkserveridentity", "false");
        properties.put("mail.smtp.auth.mechanisms", "PLAIN");
        properties.put("mail.smtp.localhost", "client.test");
        properties.put("mail.smtp.timeout", "30000");
        return properties;
    }

    protected static String key(String workspace) {
        return workspace + "-key";
    }

    protected HttpResponse<String> post(String apiKey, Object body, Map<String, String> headers) {
        String json = body instanceof String s ? s : write(body);
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/messages"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json));
        if (apiKey != null) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        headers.forEach(request::header);
        return send(request.build());
    }

    protected HttpResponse<String> get(String apiKey, String path) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + apiKey).GET().build());
    }

    protected static HttpResponse<String> send(HttpRequest request) {
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Submits over REST and returns the id of the accepted message (asserting the 202). */
    protected String submit(String workspace, Map<String, Object> message) {
        HttpResponse<String> response = post(key(workspace), message, Map.of());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        Map<String, Object> body = read(response.body());
        assertThat(body).containsEntry("status", "queued");
        return (String) body.get("id");
    }

    protected static Map<String, Object> message(String from, String to, String subject) {
        return Map.of("from", from, "to", List.of(to), "subject", subject, "text", "Body of " + subject);
    }

    protected Map<String, Object> row(String id) {
        return jdbc.queryForMap("select * from messages where id = ?", UUID.fromString(id));
    }

    protected String status(String id) {
        return jdbc.queryForObject("select status from messages where id = ?", String.class, UUID.fromString(id));
    }

    protected void awaitStatus(String id, String status) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(status(id)).isEqualTo(status));
    }

    protected List<String> eventTypes(String id) {
        return jdbc.queryForList("select type from events where message_id = ? order by id", String.class,
                UUID.fromString(id));
    }

    protected long countMessages(String workspace) {
        return jdbc.queryForObject("select count(*) from messages where workspace_id = ?", Long.class, workspace);
    }

    protected static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(e);
        }
    }

    protected static Map<String, Object> read(String json) {
        try {
            return JSON.readValue(json, new TypeReference<>() { });
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError("not JSON: " + json, e);
        }
    }
}
