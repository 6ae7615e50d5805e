package com.mailrelay.bench;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.ServeEvent;
import com.mailrelay.support.ForkedRelay;
import com.mailrelay.support.MandrillPosts;
import com.mailrelay.support.Upstreams;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static org.awaitility.Awaitility.await;

/**
 * End-to-end webhook latency on an idle relay: from just before a message is submitted over REST
 * to the moment the workspace's webhook receiver logged the POST that carries the message's
 * {@code send} event. One message at a time (the relay is idle between them), on loopback: the
 * relay is a child process in the test configuration (H2, test-routes/ to the GreenMail upstreams,
 * workspace {@code hooked} posting to a WireMock receiver in this JVM), with
 * {@code relay.webhooks.poll-delay} at the production default (1s) unless told otherwise. Between
 * two messages the relay idles for a random pause (uniform below {@code gap-millis}, 1000 by
 * default, from a fixed seed): sent back to back, each message would start right after the poll
 * that posted the one before, and so always wait nearly a whole poll period.
 *
 * <pre>
 * ./mvnw -o -B -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt
 * java -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" com.mailrelay.bench.WebhookLatency [messages] [poll-delay] [gap-millis]
 * </pre>
 * Bounded: {@code messages} (default 50, at most 1000) after 10 not counted, each waited for at
 * most 30 s; the relay is stopped at the end.
 */
public final class WebhookLatency {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final int WARM_UP = 10;

    private WebhookLatency() {
    }

    public static void main(String[] args) throws Exception {
        int messages = Math.min(args.length > 0 ? Integer.parseInt(args[0]) : 50, 1000);
        String pollDelay = args.length > 1 ? args[1] : "1s";
        int gapMillis = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        Random gaps = new Random(17);
        Upstreams.properties();                            // starts the upstream stubs the child is wired to
        WireMockServer receiver = Upstreams.webhooks();
        receiver.stubFor(WireMock.post("/mandrill").willReturn(aResponse().withStatus(200)));
        try (ForkedRelay relay = ForkedRelay.builder().property("relay.webhooks.poll-delay", pollDelay).start()) {
            relay.awaitReady(Duration.ofSeconds(300));
            for (int i = 0; i < WARM_UP; i++) {
                latency(relay, receiver, "warm-up " + i);
            }
            List<Long> millis = new ArrayList<>();
            for (int i = 0; i < messages; i++) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(gapMillis <= 0 ? 0 : gaps.nextInt(gapMillis)));
                millis.add(latency(relay, receiver, "measured " + i));
            }
            Collections.sort(millis);
            System.out.printf(Locale.ROOT, "webhook latency, accept -> POST received, %d messages one at a time,"
                    + " relay.webhooks.poll-delay=%s, idle gaps below %d ms: p50 %d ms, p95 %d ms, max %d ms, min %d ms%n", messages,
                    pollDelay, gapMillis, percentile(millis, 50), percentile(millis, 95), millis.get(millis.size() - 1),
                    millis.get(0));
        }
    }

    /** Submits one message and waits (at most 30 s) for the POST that carries its send event. */
    private static long latency(ForkedRelay relay, WireMockServer receiver, String subject) throws Exception {
        String body = JSON.writeValueAsString(java.util.Map.of("from", "app@hooked.test",
                "to", List.of("latency@customer.test"), "subject", subject, "text", "x"));
        long start = System.currentTimeMillis();
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(relay.uri("/api/v1/messages"))
                .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                .header("Authorization", "Bearer hooked-key").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 202) {
            throw new IllegalStateException("not accepted: " + response.statusCode() + " " + response.body());
        }
        String id = JSON.readTree(response.body()).get("id").asText();
        long received = await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(2))
                .until(() -> arrival(receiver, id), Optional::isPresent).orElseThrow();
        return received - start;
    }

    private static Optional<Long> arrival(WireMockServer receiver, String messageId) {
        for (ServeEvent event : receiver.getAllServeEvents()) {
            for (JsonNode posted : MandrillPosts.events(event.getRequest().getBodyAsString())) {
                if (messageId.equals(posted.path("_id").asText()) && "send".equals(posted.path("event").asText())) {
                    return Optional.of(event.getRequest().getLoggedDate().getTime());
                }
            }
        }
        return Optional.empty();
    }

    private static long percentile(List<Long> sorted, int percent) {
        return sorted.get(Math.max(0, (int) Math.ceil(percent / 100.0 * sorted.size()) - 1));
    }
}
