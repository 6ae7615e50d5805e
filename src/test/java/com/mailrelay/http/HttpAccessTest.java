package com.mailrelay.http;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Credentials before bodies: an anonymous request is answered 401 before the relay reads its body
 * (the answer arrives while the client is still sending), a keyed chunked body is cut at
 * relay.max-message-size while it streams, the public endpoints take much smaller bodies
 * (relay.inbound.max-body-size), and actuator shows metrics and health details to the admin key only.
 */
class HttpAccessTest extends RelayTestSupport {

    private static final long LIMIT = 10L * 1024 * 1024;          // relay.max-message-size
    private static final long PUBLIC_LIMIT = 1024L * 1024;        // relay.inbound.max-body-size
    private static final String ADMIN_KEY = "admin-key";

    @Test
    void anonymousRequestWithAHugeDeclaredBodyIsRefusedBeforeItIsSent() throws Exception {
        long before = countMessages("acme");
        try (RawHttp http = new RawHttp(port, Duration.ofSeconds(20))) {
            http.head("POST /api/v1/messages HTTP/1.1", "Content-Type: application/json",
                    "Content-Length: 10000000000");
            http.raw("{\"from\":\"app@acme.test\",\"text\":\"".getBytes(StandardCharsets.US_ASCII));

            RawHttp.Response response = http.response();

            assertThat(response.status()).as(response.head()).isEqualTo(401);
            assertThat(response.head()).containsIgnoringCase("WWW-Authenticate: Bearer");
            assertThat(read(response.body())).containsEntry("error", "unauthorized");
            // 10 GB declared, 33 bytes sent: the relay did not wait for the rest.
            assertThat(response.bodyBytesSentBeforeAnswer()).isLessThan(100);
        }
        assertThat(countMessages("acme")).isEqualTo(before);
    }

    @Test
    void anonymousChunkedBodyIsRefusedBeforeItIsSent() throws Exception {
        for (String authorization : new String[] {null, "Authorization: Bearer not-a-key", "Authorization: Basic eDp5"}) {
            try (RawHttp http = new RawHttp(port, Duration.ofSeconds(20))) {
                List<String> headers = new java.util.ArrayList<>(List.of("Content-Type: application/json",
                        "Transfer-Encoding: chunked"));
                if (authorization != null) {
                    headers.add(authorization);
                }
                http.head("POST /api/v1/messages HTTP/1.1", headers.toArray(String[]::new));
                http.chunk(new byte[64 * 1024]);     // one chunk of 64 KB, and the request never ends

                RawHttp.Response response = http.response();

                assertThat(response.status()).as(authorization + ": " + response.head()).isEqualTo(401);
                assertThat(read(response.body())).containsEntry("error", "unauthorized");
                assertThat(response.bodyBytesSentBeforeAnswer()).isEqualTo(64 * 1024);
            }
        }
    }

    @Test
    void keyedChunkedBodyOverTheLimitIsCutWhileStreaming() throws Exception {
        long total = 3 * LIMIT;
        try (RawHttp http = new RawHttp(port, Duration.ofSeconds(30))) {
            http.head("POST /api/v1/messages HTTP/1.1", "Content-Type: application/json",
                    "Transfer-Encoding: chunked", "Authorization: Bearer " + key("acme"));
            var writer = http.streamChunks(total, 64 * 1024, true);

            RawHttp.Response response = http.response();

            assertThat(response.status()).as(response.head() + response.body()).isEqualTo(413);
            assertThat(read(response.body())).containsEntry("error", "message_too_large");
            assertThat((String) read(response.body()).get("message")).contains("relay.max-message-size");
            // Answered after the limit was read, long before the client got to the end of its 30 MB.
            assertThat(response.bodyBytesSentBeforeAnswer()).isGreaterThan(LIMIT).isLessThan(total);
            http.close();
            RawHttp.await(writer);
        }
    }

    @Test
    void publicEndpointsTakeSmallBodiesOnly() throws Exception {
        byte[] big = ("{\"signature\":{},\"event-data\":\"" + "x".repeat((int) PUBLIC_LIMIT) + "\"}")
                .getBytes(StandardCharsets.UTF_8);
        for (String provider : List.of("mailgun", "sendgrid")) {
            // Declared length: refused before reading.
            HttpResponse<String> declared = send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/api/v1/inbound/esp/" + provider))
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(big))
                    .build());
            assertThat(declared.statusCode()).as(declared.body()).isEqualTo(413);
            assertThat(read(declared.body()).get("message").toString()).contains("relay.inbound.max-body-size");

            // Chunked: cut at the limit while streaming.
            try (RawHttp http = new RawHttp(port, Duration.ofSeconds(30))) {
                http.head("POST /api/v1/inbound/esp/" + provider + " HTTP/1.1", "Content-Type: application/json",
                        "Transfer-Encoding: chunked");
                var writer = http.streamChunks(10 * PUBLIC_LIMIT, 16 * 1024, true);
                RawHttp.Response response = http.response();
                assertThat(response.status()).as(response.head() + response.body()).isEqualTo(413);
                assertThat(read(response.body()).get("message").toString()).contains("relay.inbound.max-body-size");
                assertThat(response.bodyBytesSentBeforeAnswer()).isLessThan(10 * PUBLIC_LIMIT);
                http.close();
                RawHttp.await(writer);
            }
        }
    }

    @Test
    void metricsNeedTheAdminKey() {
        for (String path : List.of("/actuator/prometheus", "/actuator/metrics", "/actuator/info", "/actuator")) {
            assertThat(actuator(path, null).statusCode()).as(path).isEqualTo(401);
            assertThat(actuator(path, key("acme")).statusCode()).as(path + " with a workspace key").isEqualTo(401);
            assertThat(actuator(path, "wrong").statusCode()).as(path).isEqualTo(401);
            HttpResponse<String> admin = actuator(path, ADMIN_KEY);
            assertThat(admin.statusCode()).as(path + " with the admin key").isEqualTo(200);
        }
        assertThat(actuator("/actuator/prometheus", ADMIN_KEY).body()).contains("relay_");
        // Decoded paths are judged, not the raw URI.
        assertThat(actuator("/%61ctuator/prometheus", null).statusCode()).isIn(401, 400, 404);
        assertThat(actuator("/actuator/./prometheus", null).statusCode()).isIn(401, 400, 404);
    }

    @Test
    void healthShowsItsStatusToAnyoneAndDetailsToTheAdmin() {
        HttpResponse<String> anonymous = actuator("/actuator/health", null);
        assertThat(anonymous.statusCode()).isEqualTo(200);
        assertThat(read(anonymous.body())).containsEntry("status", "UP").doesNotContainKey("components");

        HttpResponse<String> workspace = actuator("/actuator/health", key("acme"));
        assertThat(read(workspace.body())).doesNotContainKey("components");

        HttpResponse<String> admin = actuator("/actuator/health", ADMIN_KEY);
        assertThat(admin.statusCode()).isEqualTo(200);
        Map<String, Object> body = read(admin.body());
        assertThat(body).containsEntry("status", "UP").containsKey("components");
        assertThat(body.get("components").toString()).contains("db");

        HttpResponse<String> readiness = actuator("/actuator/health/readiness", null);
        assertThat(readiness.statusCode()).isEqualTo(200);
        assertThat(read(readiness.body())).containsEntry("status", "UP");
    }

    private HttpResponse<String> actuator(String path, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(20)).GET();
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return send(request.build());
    }
}
