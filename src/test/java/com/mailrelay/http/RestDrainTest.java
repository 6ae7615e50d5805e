package com.mailrelay.http;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.support.ForkedRelay;
import com.mailrelay.support.TestDatabaseEnvironment;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * SIGTERM while a request is in flight: readiness goes DOWN, a new request gets 503 with
 * Retry-After, the one in flight completes with its 202 (and its message is stored), and then the
 * process exits, within the configured times.
 */
class RestDrainTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void newRequestsGet503WhileTheOneInFlightCompletes() throws Exception {
        java.nio.file.Path work = java.nio.file.Files.createTempDirectory("rest-drain-");
        ForkedRelay.Database database = TestDatabaseEnvironment.forkedDatabase(work);
        try (ForkedRelay relay = ForkedRelay.builder().workDirectory(work).database(database)
                .property("relay.shutdown.drain-timeout", "40s").property("relay.shutdown.retry-after", "7s")
                .start()) {
            relay.awaitReady(Duration.ofSeconds(180));

            try (RawHttp inFlight = new RawHttp(relay.httpPort(), Duration.ofSeconds(60))) {
                inFlight.head("POST /api/v1/messages HTTP/1.1", "Content-Type: application/json",
                        "Transfer-Encoding: chunked", "Authorization: Bearer acme-key");
                inFlight.chunk("{\"from\":\"app@acme.test\",\"to\":[\"drain@customer.test\"],"
                        .getBytes(StandardCharsets.UTF_8));
                // In flight: the relay counts it among its active requests (besides the metrics call itself).
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                        .until(() -> activeRequests(relay) >= 2);

                long terminated = System.nanoTime();
                relay.terminate();

                // Readiness DOWN, and a new request is refused with 503 and Retry-After.
                AtomicReference<HttpResponse<String>> refused = new AtomicReference<>();
                await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
                    HttpResponse<String> response = send(relay, "/api/v1/messages/" + UUID.randomUUID(), "acme-key");
                    refused.set(response);
                    // (A request admitted just before the drain began may still fail otherwise.)
                    return response != null && response.statusCode() == 503
                            && response.body().contains("shutting_down");
                });
                assertThat(refused.get().headers().firstValue("Retry-After")).hasValue("7");
                assertThat(JSON.readTree(refused.get().body()).get("error").asText()).isEqualTo("shutting_down");
                HttpResponse<String> readiness = send(relay, "/actuator/health/readiness", null);
                assertThat(readiness.statusCode()).isEqualTo(503);
                assertThat(readiness.body()).contains("OUT_OF_SERVICE");

                // The request in flight finishes its body and gets its 202.
                inFlight.chunk("\"subject\":\"in flight at SIGTERM\",\"text\":\"completed\"}"
                        .getBytes(StandardCharsets.UTF_8));
                inFlight.lastChunk();
                RawHttp.Response accepted = inFlight.response();
                assertThat(accepted.status()).as(accepted.head() + accepted.body()).isEqualTo(202);
                String id = JSON.readTree(accepted.body()).get("id").asText();

                int exit = relay.awaitExit(Duration.ofSeconds(90));
                Duration shutdown = Duration.ofNanos(System.nanoTime() - terminated);
                assertThat(exit).isIn(0, 143);
                assertThat(shutdown).isLessThan(Duration.ofSeconds(90));
                assertThat(relay.log()).contains("shutting down: readiness DOWN").contains("REST drained");

                // Accounted for: the 202 is a stored message.
                assertThat(storedStatus(database, id)).isIn("QUEUED", "SENDING", "SENT");
            }
        }
    }

    private static long activeRequests(ForkedRelay relay) throws Exception {
        HttpResponse<String> response = send(relay, "/actuator/metrics/http.server.requests.active", "admin-key");
        if (response == null || response.statusCode() != 200) {
            return 0;
        }
        for (JsonNode measurement : JSON.readTree(response.body()).get("measurements")) {
            if (measurement.get("statistic").asText().equals("ACTIVE_TASKS")) {
                return measurement.get("value").asLong();
            }
        }
        return 0;
    }

    private static HttpResponse<String> send(ForkedRelay relay, String path, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(relay.uri(path)).timeout(Duration.ofSeconds(10)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        try {
            return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.io.IOException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String storedStatus(ForkedRelay.Database database, String id) throws Exception {
        try (Connection connection = DriverManager.getConnection(database.url(), database.user(), database.password());
             PreparedStatement query = connection.prepareStatement("select status from messages where id = ?")) {
            query.setObject(1, UUID.fromString(id));
            try (ResultSet rows = query.executeQuery()) {
                return rows.next() ? rows.getString(1) : null;
            }
        }
    }
}
