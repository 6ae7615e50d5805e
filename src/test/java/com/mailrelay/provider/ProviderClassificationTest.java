package com.mailrelay.provider;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aMultipart;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * What HTTP providers' refusals do to a message, across provider types: a 429 with Retry-After
 * puts the next attempt no sooner; a refused key (401) opens that provider's breaker at once, uses
 * none of the message's attempts, and the chain fails over to its next provider.
 */
class ProviderClassificationTest extends RelayTestSupport {

    @Autowired
    ProviderBreakers breakers;

    @Autowired
    MeterRegistry meters;

    private final WireMockServer stub = Upstreams.providerApis();

    @Test
    void aRateLimitWithRetryAfterPutsTheNextAttemptNoSooner() {
        String to = "limited-" + UUID.randomUUID() + "@throttled.test";
        String send = "/mailgun-429/v3/mg.relay.test/messages.mime";
        stub.stubFor(WireMock.post(send).atPriority(1)
                .withMultipartRequestBody(aMultipart().withName("to").withBody(equalTo(to)))
                .willReturn(aResponse().withStatus(429).withHeader("Retry-After", "120")
                        .withHeader("Content-Type", "application/json")
                        .withBody("{\"message\": \"Too many requests\"}")));

        String id = submit("via-mailgun", message("app@mg.relay.test", to, "rate limited"));
        awaitStatus(id, "DEFERRED");

        List<LoggedRequest> tries = stub.findAll(postRequestedFor(urlEqualTo(send))
                .withAnyRequestBodyPart(aMultipart().withName("to").withBody(equalTo(to))));
        assertThat(tries).hasSize(1);
        Instant attempted = tries.get(0).getLoggedDate().toInstant();
        Instant next = jdbc.queryForObject("select next_attempt_at from messages where id = ?", Timestamp.class,
                UUID.fromString(id)).toInstant();
        assertThat(next).isAfterOrEqualTo(attempted.plusSeconds(120))
                .isBefore(attempted.plusSeconds(120).plus(Duration.ofSeconds(10)));
        Map<String, Object> row = row(id);
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(row.get("provider_id")).isEqualTo("mailgun-throttled");
        assertThat((String) row.get("last_error")).isEqualTo("HTTP 429: Too many requests");
        assertThat(eventTypes(id)).containsExactly("deferral");
    }

    @Test
    void aRefusedKeyOpensTheBreakerAndTheMessageFailsOverToTheNextProvider() {
        String to = "moved-" + UUID.randomUUID() + "@failover.test";
        String refusing = "/mailgun-401/v3/mg.relay.test/messages.mime";
        stub.stubFor(WireMock.post(refusing).atPriority(5).willReturn(aResponse().withStatus(401).withBody("Forbidden")));
        stub.stubFor(WireMock.post("/postmark-backup/email").atPriority(1).withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"To\": \"" + to + "\", \"SubmittedAt\": \"2026-12-01T15:00:00Z\", "
                                + "\"MessageID\": \"backup-" + to.hashCode() + "\", \"ErrorCode\": 0, \"Message\": \"OK\"}")));

        String id = submit("via-mailgun", message("app@mg.relay.test", to, "fails over"));
        awaitStatus(id, "SENT");

        assertThat(breakerState("mailgun-badkey")).isEqualTo("OPEN");
        assertThat(meters.counter("relay.provider.configuration.faults", "provider", "mailgun-badkey").count())
                .isEqualTo(1);
        Map<String, Object> row = row(id);
        assertThat(row.get("provider_id")).isEqualTo("postmark-backup");
        assertThat(row.get("provider_message_id")).isEqualTo("backup-" + to.hashCode());
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(eventTypes(id)).containsExactly("send");
        assertThat(stub.findAll(postRequestedFor(urlEqualTo("/postmark-backup/email"))
                .withHeader("X-Postmark-Server-Token", equalTo("postmark-backup-token"))
                .withRequestBody(containing(to)))).hasSize(1)
                // The key Mailgun refused never reaches the next provider.
                .allSatisfy(request -> assertThat(request.containsHeader("Authorization")).isFalse());
    }

    @Test
    void anAttemptThatEndsOnARefusedKeyUsesNoneOfTheMessagesAttempts() {
        // chain: postmark-flaky (503, then 200), then mailgun-badkey-last (401). The first attempt
        // ends on the 401: DEFERRED without using an attempt; the second is taken by Postmark.
        String to = "waits-" + UUID.randomUUID() + "@waits.test";
        String scenario = "postmark-flaky-" + to;
        stub.stubFor(WireMock.post("/postmark-flaky/email").atPriority(1).inScenario(scenario)
                .whenScenarioStateIs(STARTED).withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(503).withBody("Service Unavailable"))
                .willSetStateTo("recovered"));
        stub.stubFor(WireMock.post("/postmark-flaky/email").atPriority(1).inScenario(scenario)
                .whenScenarioStateIs("recovered").withRequestBody(containing(to))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"To\": \"" + to + "\", \"SubmittedAt\": \"2026-12-01T15:00:00Z\", "
                                + "\"MessageID\": \"flaky-" + to.hashCode() + "\", \"ErrorCode\": 0, \"Message\": \"OK\"}")));
        String refusing = "/mailgun-401-last/v3/mg.relay.test/messages.mime";
        stub.stubFor(WireMock.post(refusing).atPriority(5).willReturn(aResponse().withStatus(401).withBody("Forbidden")));

        String id = submit("via-postmark", message("app@pm.relay.test", to, "waits"));
        awaitStatus(id, "SENT");

        assertThat(breakerState("mailgun-badkey-last")).isEqualTo("OPEN");
        assertThat(stub.findAll(postRequestedFor(urlEqualTo("/postmark-flaky/email")).withRequestBody(containing(to))))
                .hasSize(2);
        assertThat(stub.findAll(postRequestedFor(urlEqualTo(refusing))
                .withAnyRequestBodyPart(aMultipart().withName("to").withBody(equalTo(to))))).hasSize(1);
        Map<String, Object> row = row(id);
        // Two attempts were made; the one that ended on the refused key was given back.
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(row.get("provider_id")).isEqualTo("postmark-flaky");
        assertThat(eventTypes(id)).containsExactly("deferral", "send");
    }

    private String breakerState(String providerId) {
        return breakers.breaker(providerId).map(ResilienceProcessor::getCircuitBreakerState).orElseThrow();
    }
}
