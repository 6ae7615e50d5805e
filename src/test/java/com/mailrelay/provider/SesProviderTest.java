package com.mailrelay.provider;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.provider.ses.SesProbe;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.containing;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.matching;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Provider type "ses" against a stub of the SES API v2 (the shared provider stub, under /ses): the
 * relay's SendEmail is the real signed request — SigV4 Authorization for the configured key, region
 * and service, the raw MIME in Content.Raw.Data byte for byte, the envelope in Destination and
 * FromEmailAddress, the configuration set — and SES's documented answers (MessageId; errors by
 * x-amzn-ErrorType as the AWS JSON protocol sends them) end the message as SES's error list says.
 */
class SesProviderTest extends RelayTestSupport {

    private static final String SEND = "/ses/v2/email/outbound-emails";
    private static final String KEY = "AKIDRELAYTEST0000001";
    private static final String PAUSED_KEY = "AKIDPAUSEDTEST000001";
    private static final Pattern SIGV4 = Pattern.compile("AWS4-HMAC-SHA256 Credential=(\\w+)/(\\d{8})/eu-west-1/ses/"
            + "aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}");

    @Autowired
    MeterRegistry meters;

    @Autowired
    SesProbe probe;

    @Autowired
    ProviderBreakers breakers;

    @BeforeAll
    static void stubs() {
        WireMockServer ses = Upstreams.providerApis();
        // The accepting account: only a request signed with its key, with the configuration set.
        for (String recipient : List.of("kim@customer.test", "lee@paused.test", "max@customer.test")) {
            ses.stubFor(WireMock.post(urlEqualTo(SEND))
                    .withHeader("Authorization", matching("AWS4-HMAC-SHA256 Credential=" + KEY + "/.*"))
                    .withHeader("Content-Type", containing("json"))
                    .withRequestBody(matchingJsonPath("$.Destination.ToAddresses[0]", equalTo(recipient)))
                    .withRequestBody(matchingJsonPath("$.ConfigurationSetName", equalTo("relay-events")))
                    .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                            .withBody("{\"MessageId\":\"0102018c-" + recipient.replaceAll("\\W", "-") + "-000000\"}")));
        }
        // SendEmail errors of the SES v2 reference, as the AWS JSON protocol sends them.
        ses.stubFor(WireMock.post(urlEqualTo(SEND))
                .withRequestBody(matchingJsonPath("$.Destination.ToAddresses[0]", equalTo("unverified@customer.test")))
                .willReturn(error(400, "MessageRejected", "Email address is not verified. The following identities "
                        + "failed the check in region EU-WEST-1: unverified@customer.test")));
        ses.stubFor(WireMock.post(urlEqualTo(SEND)).inScenario("throttled").whenScenarioStateIs(Scenario.STARTED)
                .withRequestBody(matchingJsonPath("$.Destination.ToAddresses[0]", equalTo("busy@customer.test")))
                .willReturn(error(429, "TooManyRequestsException", "Maximum sending rate exceeded."))
                .willSetStateTo("calm"));
        ses.stubFor(WireMock.post(urlEqualTo(SEND)).inScenario("throttled").whenScenarioStateIs("calm")
                .withHeader("Authorization", matching("AWS4-HMAC-SHA256 Credential=" + KEY + "/.*"))
                .withRequestBody(matchingJsonPath("$.Destination.ToAddresses[0]", equalTo("busy@customer.test")))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"MessageId\":\"0102018c-busy-after-throttling\"}")));
        ses.stubFor(WireMock.post(urlEqualTo(SEND))
                .withHeader("Authorization", matching("AWS4-HMAC-SHA256 Credential=" + PAUSED_KEY + "/.*"))
                .willReturn(error(400, "SendingPausedException", "Sending is paused for this account.")));
        ses.stubFor(WireMock.get(urlEqualTo("/ses/v2/email/account"))
                .withHeader("Authorization", matching("AWS4-HMAC-SHA256 Credential=" + KEY + "/.*"))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"DedicatedIpAutoWarmupEnabled\":false,\"EnforcementStatus\":\"HEALTHY\","
                                + "\"ProductionAccessEnabled\":true,\"SendQuota\":{\"Max24HourSend\":50000.0,"
                                + "\"MaxSendRate\":14.0,\"SentLast24Hours\":12.0},\"SendingEnabled\":true}")));
    }

    private static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder error(int status, String type,
                                                                                          String message) {
        return aResponse().withStatus(status).withHeader("Content-Type", "application/json")
                .withHeader("x-amzn-ErrorType", type).withHeader("x-amzn-RequestId", "7a62c49f-347e-4fc4-9331-6e8eEXAMPLE")
                .withBody("{\"message\":\"" + message + "\"}");
    }

    @Test
    void sendsTheAcceptedMimeRawToTheEnvelopeSignedWithTheKeyAndKeepsTheMessageId() throws Exception {
        String id = submit("via-ses", message("app@ses-sender.test", "kim@customer.test", "through ses"));
        awaitStatus(id, "SENT");
        Map<String, Object> row = row(id);
        assertThat(row.get("provider_id")).isEqualTo("ses");
        assertThat(row.get("provider_message_id")).isEqualTo("0102018c-kim-customer-test-000000");

        LoggedRequest request = only("kim@customer.test");
        var authorization = SIGV4.matcher(request.getHeader("Authorization"));
        assertThat(authorization.matches()).as(request.getHeader("Authorization")).isTrue();
        assertThat(authorization.group(1)).isEqualTo(KEY);
        assertThat(request.getHeader("X-Amz-Date")).startsWith(authorization.group(2));
        JsonNode body = JSON.readTree(request.getBodyAsString());
        assertThat(body.path("FromEmailAddress").asText()).isEqualTo("app@ses-sender.test");
        assertThat(body.path("Destination").path("ToAddresses").toString()).isEqualTo("[\"kim@customer.test\"]");
        assertThat(body.path("ConfigurationSetName").asText()).isEqualTo("relay-events");
        byte[] sent = Base64.getDecoder().decode(body.path("Content").path("Raw").path("Data").asText());
        assertThat(sent).isEqualTo((byte[]) row.get("raw_mime"));
        assertThat(new String(sent, StandardCharsets.UTF_8)).contains("Subject: through ses");
    }

    @Test
    void messageRejectedIsPermanent() {
        String id = submit("via-ses", message("app@ses-sender.test", "unverified@customer.test", "rejected by ses"));
        awaitStatus(id, "FAILED");
        assertThat(eventTypes(id)).contains("hard_bounce").doesNotContain("deferral");
        assertThat((String) row(id).get("last_error")).contains("MessageRejected").contains("not verified");
        assertThat(row(id).get("attempts")).isEqualTo(1);
    }

    @Test
    void throttlingIsTransientAndTheNextAttemptIsSent() {
        String id = submit("via-ses", message("app@ses-sender.test", "busy@customer.test", "throttled by ses"));
        awaitStatus(id, "SENT");
        assertThat(eventTypes(id)).contains("deferral").doesNotContain("hard_bounce");
        Map<String, Object> row = row(id);
        assertThat(row.get("attempts")).isEqualTo(2);
        assertThat(row.get("provider_message_id")).isEqualTo("0102018c-busy-after-throttling");
    }

    @Test
    void aPausedAccountIsAConfigurationFaultThatOpensItsBreakerAndFailsOver() {
        double faults = faults();
        String id = submit("via-ses", message("app@ses-sender.test", "lee@paused.test", "paused account"));
        awaitStatus(id, "SENT");
        Map<String, Object> row = row(id);
        assertThat(row.get("provider_id")).isEqualTo("ses");
        assertThat(row.get("provider_message_id")).isEqualTo("0102018c-lee-paused-test-000000");
        // One attempt: the one that went out through the working account.
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(Upstreams.providerApis().findAll(postRequestedFor(urlEqualTo(SEND))
                .withHeader("Authorization", matching("AWS4-HMAC-SHA256 Credential=" + PAUSED_KEY + "/.*"))))
                .isNotEmpty();
        assertThat(breakerState("ses-paused")).isEqualTo("OPEN");
        assertThat(faults()).isGreaterThan(faults);
    }

    @Test
    void theRoutesApiShowsNoSecret() {
        for (String path : List.of("/api/v1/routes", "/api/v1/routes/templates")) {
            assertThat(get("admin-key", path).body()).doesNotContain("relay/test+secret")
                    .doesNotContain("paused/test+secret");
        }
    }

    @Test
    void theProbeReadsTheAccount() {
        String state = probe.probe(Map.of("providerId", "ses", "region", "eu-west-1", "accessKeyId", KEY,
                "secretAccessKey", "relay/test+secret/0123456789abcdefABCDEF",
                "endpointOverride", "http://127.0.0.1:" + Upstreams.providerApis().port() + "/ses", "timeoutMillis", "5000"));
        assertThat(state).contains("eu-west-1").contains("HEALTHY").contains("50000");
        assertThat(Upstreams.providerApis().findAll(postRequestedFor(urlEqualTo(SEND))
                .withRequestBody(containing("postmaster")))).isEmpty();
    }

    private LoggedRequest only(String recipient) {
        List<LoggedRequest> requests = Upstreams.providerApis().findAll(postRequestedFor(urlEqualTo(SEND))
                .withRequestBody(matchingJsonPath("$.Destination.ToAddresses[0]", equalTo(recipient))));
        assertThat(requests).hasSize(1);
        return requests.get(0);
    }

    private String breakerState(String providerId) {
        return breakers.breaker(providerId).orElseThrow().getCircuitBreakerState();
    }

    private double faults() {
        var counter = meters.find("relay.provider.configuration.faults").tag("provider", "ses-paused").counter();
        return counter == null ? 0 : counter.count();
    }
}
