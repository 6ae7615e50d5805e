package com.mailrelay.flow;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.test.spring.junit5.CamelSpringBootTest;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The relay as the README starts it: the operator's ./application.yml and the real routes/
 * (dispatch → outbox provider), with the README's development key. Only the database (a fresh
 * test one) and the outbox folder (a temporary one) differ — and periodic provider probes are on.
 */
@CamelSpringBootTest
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "relay.smtp.port=0", "relay.smtp.tls.generated-key-store=target/embedded-default-smtp-tls.p12",
        // Periodic provider probes on (default off), to see them run without a request.
        "relay.providers.probe.interval=1s"})
class EmbeddedDefaultTest {

    private static final Path OUTBOX = temporaryFolder();

    @DynamicPropertySource
    static void outbox(DynamicPropertyRegistry registry) {
        registry.add("relay.outbox.directory", OUTBOX::toString);
    }

    @LocalServerPort
    int port;

    @Test
    void readmeCurlLandsInTheOutbox() throws Exception {
        // The README's example request, byte for byte in meaning.
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest
                .newBuilder(URI.create("http://localhost:" + port + "/api/v1/messages"))
                .header("Authorization", "Bearer dev-key-change-me")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"from": "app@example.com", "to": ["alice@example.org"],
                         "subject": "Hello from Mail Relay", "text": "It works."}"""))
                .build(), HttpResponse.BodyHandlers.ofString());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(202);
        String id = new ObjectMapper().readTree(response.body()).get("id").asText();
        Path eml = OUTBOX.resolve(id + ".eml");
        await().atMost(Duration.ofSeconds(20)).until(() -> Files.exists(eml));
        String written = Files.readString(eml, StandardCharsets.UTF_8);
        assertThat(written).contains("Subject: Hello from Mail Relay").contains("To: alice@example.org")
                .contains("It works.").contains("Message-ID: <" + id + "@example.com>");
    }

    @Test
    void periodicProbesReportEachProviderWithoutARequest() throws Exception {
        // relay.providers.probe.interval=1s: the outbox provider is probed by the provider-probes
        // route on its own; GET /api/v1/providers shows the result, and no message is sent by it.
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + port + "/api/v1/providers/outbox"))
                .header("Authorization", "Bearer admin-key-change-me").GET().build();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            var probe = new ObjectMapper().readTree(response.body()).get("last_probe");
            assertThat(probe.isNull()).as(response.body()).isFalse();
            assertThat(probe.get("status").asText()).isEqualTo("ok");
        });
        try (var files = Files.list(OUTBOX)) {
            assertThat(files.filter(file -> file.toString().endsWith(".eml")))
                    .allSatisfy(file -> assertThat(Files.readString(file)).contains("Subject: Hello from Mail Relay"));
        }
    }

    private static Path temporaryFolder() {
        try {
            return Files.createTempDirectory("relay-outbox");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
