package com.mailrelay.http;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import com.mailrelay.support.ForkedRelay;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The review's out-of-memory demonstration, against a relay process with the Dockerfile's heap
 * (-Xmx192m and its other JAVA_OPTS): 40 parallel chunked 10 MB POSTs without an API key. Each is
 * answered 401 before its body is read, the relay logs no OutOfMemoryError, and it goes on
 * accepting mail. (Before, each body was buffered up to 10 MB before the key was looked at.)
 */
class AnonymousFloodTest {

    private static final int REQUESTS = 40;
    private static final long BODY = 10L * 1024 * 1024;

    @Test
    void fortyAnonymousTenMegabyteChunkedPostsAreRefusedAndTheRelayKeepsServing() throws Exception {
        try (ForkedRelay relay = ForkedRelay.builder().javaOptions(ForkedRelay.DOCKERFILE_JAVA_OPTIONS).start()) {
            relay.awaitReady(Duration.ofSeconds(180));
            ExecutorService threads = Executors.newFixedThreadPool(2 * REQUESTS);
            try {
                List<CompletableFuture<RawHttp.Response>> answers = new ArrayList<>();
                for (int i = 0; i < REQUESTS; i++) {
                    answers.add(CompletableFuture.supplyAsync(() -> flood(relay.httpPort(), threads), threads));
                }
                for (CompletableFuture<RawHttp.Response> answer : answers) {
                    RawHttp.Response response = answer.get(120, TimeUnit.SECONDS);
                    assertThat(response.status()).as(response.head()).isEqualTo(401);
                    assertThat(response.body()).contains("unauthorized");
                }
            } finally {
                threads.shutdownNow();
            }

            assertThat(relay.alive()).isTrue();
            assertThat(relay.log()).doesNotContain("OutOfMemoryError");
            // Still serving: a keyed message is accepted.
            HttpResponse<String> accepted = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            relay.uri("/api/v1/messages")).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer acme-key").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("""
                            {"from":"app@acme.test","to":["after-flood@customer.test"],
                             "subject":"after the flood","text":"still here"}""")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(202);
        }
    }

    private static RawHttp.Response flood(int port, ExecutorService threads) {
        try (RawHttp http = new RawHttp(port, Duration.ofSeconds(60))) {
            http.head("POST /api/v1/messages HTTP/1.1", "Content-Type: application/json",
                    "Transfer-Encoding: chunked");
            CompletableFuture<Long> writer = http.streamChunks(BODY, 64 * 1024, true, threads);
            RawHttp.Response response = http.response();
            http.close();
            writer.get(60, TimeUnit.SECONDS);
            return response;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
