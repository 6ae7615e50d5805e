package com.mailrelay.provider;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.WireMock;
import com.github.tomakehurst.wiremock.http.Request;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import com.mailrelay.provider.mailgun.MailgunProbe;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ChoiceDefinition;
import org.apache.camel.model.CircuitBreakerDefinition;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.ProcessorDefinition;
import org.apache.camel.model.SendDefinition;
import org.apache.camel.model.TryDefinition;
import org.apache.camel.model.WhenDefinition;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static com.github.tomakehurst.wiremock.client.WireMock.aMultipart;
import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.stubbing.Scenario.STARTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The mailgun provider type against a Mailgun stub that checks the real request — URL, Basic auth
 * api:key, multipart/form-data with the accepted MIME byte for byte as {@code message} and one
 * {@code to} per envelope recipient — and answers as Mailgun documents it
 * (documentation.mailgun.com: "Send an email in MIME format", "API Response Codes").
 */
class MailgunProviderTest extends RelayTestSupport {

    private static final String SEND = "/mailgun/v3/mg.relay.test/messages.mime";
    private static final String QUEUED = "{\"id\": \"<%s>\", \"message\": \"Queued. Thank you.\"}";

    @Autowired
    CamelContext camel;

    @Autowired
    MailgunProbe probe;

    private final WireMockServer mailgun = Upstreams.providerApis();

    @Test
    void sendsTheAcceptedMimeAsItIsToEveryEnvelopeRecipientAndKeepsMailgunsId() {
        String tag = UUID.randomUUID().toString().substring(0, 8);
        String to = "to-" + tag + "@customer.test";
        String cc = "cc-" + tag + "@customer.test";
        String bcc = "bcc-" + tag + "@audit.test";
        String mailgunId = "20261201150000." + tag + "@mg.relay.test";
        mailgun.stubFor(WireMock.post(SEND).atPriority(1)
                .withMultipartRequestBody(aMultipart().withName("to").withBody(equalTo(to)))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody(QUEUED.formatted(mailgunId))));

        String id = submit("via-mailgun", Map.of("from", "Relay App <app@mg.relay.test>", "to", List.of(to),
                "cc", List.of(cc), "bcc", List.of(bcc), "subject", "Invoice " + tag, "text", "Body of " + tag,
                "html", "<p>Body of " + tag + "</p>"));
        awaitStatus(id, "SENT");

        LoggedRequest request = only(to);
        assertThat(request.getUrl()).isEqualTo(SEND);
        assertThat(request.getHeader("Authorization")).isEqualTo("Basic "
                + Base64.getEncoder().encodeToString("api:key-mailgun-test".getBytes(StandardCharsets.UTF_8)));
        assertThat(request.getHeader("Content-Type")).startsWith("multipart/form-data; boundary=");
        // Only what the mapper set: none of the relay's own headers reach Mailgun.
        assertThat(request.getHeaders().keys()).noneMatch(name -> name.toLowerCase().startsWith("relay"));
        byte[] accepted = (byte[]) row(id).get("raw_mime");
        assertThat(request.getPart("message").getBody().asBytes()).isEqualTo(accepted);
        assertThat(parts(request, "to")).containsExactlyInAnyOrder(to, cc, bcc);
        assertThat(parts(request, "v:relay_message_id")).containsExactly(id);
        // Bcc reaches Mailgun only as a "to" field, never in the MIME.
        assertThat(new String(accepted, StandardCharsets.UTF_8)).doesNotContain(bcc);

        Map<String, Object> row = row(id);
        assertThat(row.get("provider_id")).isEqualTo("mailgun");
        assertThat(row.get("provider_message_id")).isEqualTo(mailgunId);
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(eventTypes(id)).containsExactly("send", "send", "send");
    }

    @Test
    void theEuRegionWithItsOwnBaseUrlSendsThereWithItsKey() {
        String to = "eu-" + UUID.randomUUID() + "@eu.test";
        String send = "/mailgun-eu/v3/eu.relay.test/messages.mime";
        mailgun.stubFor(WireMock.post(send).atPriority(5).willReturn(aResponse().withStatus(200)
                .withHeader("Content-Type", "application/json").withBody(QUEUED.formatted("eu-1@eu.relay.test"))));

        String id = submit("via-mailgun", message("app@mg.relay.test", to, "EU region"));
        awaitStatus(id, "SENT");

        LoggedRequest request = mailgun.findAll(postRequestedFor(urlEqualTo(send))
                .withAnyRequestBodyPart(aMultipart().withName("to").withBody(equalTo(to)))).get(0);
        assertThat(request.getHeader("Authorization")).isEqualTo("Basic "
                + Base64.getEncoder().encodeToString("api:key-mailgun-eu".getBytes(StandardCharsets.UTF_8)));
        assertThat(row(id).get("provider_id")).isEqualTo("mailgun-eu");
    }

    @Test
    void regionEuWithTheDefaultBaseUrlIsMailgunsEuApi() {
        // The template's choice: region eu while baseUrl is the US default → api.eu.mailgun.net.
        TryDefinition attempt = innerTry();
        ChoiceDefinition region = (ChoiceDefinition) attempt.getOutputs().get(1);
        WhenDefinition eu = region.getWhenClauses().get(0);
        assertThat(eu.getExpression().getExpression())
                .isEqualTo("'{{region}}' =~ 'eu' && '{{baseUrl}}' == 'https://api.mailgun.net'");
        assertThat(((SendDefinition<?>) eu.getOutputs().get(0)).getEndpointUri())
                .startsWith("https://api.eu.mailgun.net/v3/{{domain}}/messages.mime?");
        assertThat(((SendDefinition<?>) region.getOtherwise().getOutputs().get(0)).getEndpointUri())
                .startsWith("{{baseUrl}}/v3/{{domain}}/messages.mime?");
        // The expression itself, with an instance's values in: true only for eu (any case) with the default URL.
        assertThat(regionChoice(eu, "eu", "https://api.mailgun.net")).isTrue();
        assertThat(regionChoice(eu, "EU", "https://api.mailgun.net")).isTrue();
        assertThat(regionChoice(eu, "us", "https://api.mailgun.net")).isFalse();
        assertThat(regionChoice(eu, "eu", "http://127.0.0.1:1/mailgun-eu")).isFalse();
        assertThat(camel.getRoute("provider-mailgun-eu-default")).isNotNull();
        // The probe follows the same rule.
        assertThat(MailgunProbe.baseUrl("eu", "https://api.mailgun.net"))
                .isEqualTo("https://api.eu.mailgun.net");
        assertThat(MailgunProbe.baseUrl("us", "https://api.mailgun.net"))
                .isEqualTo("https://api.mailgun.net");
        assertThat(MailgunProbe.baseUrl("eu", "http://stub.test/x"))
                .isEqualTo("http://stub.test/x");
    }

    @Test
    void theProbeReadsTheDomainWithTheKeyAndSendsNothing() {
        String domainUrl = "/mailgun/v3/domains/mg.relay.test";
        mailgun.stubFor(WireMock.get(domainUrl).atPriority(5)
                .withBasicAuth("api", "key-mailgun-test")
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody("{\"domain\": {\"name\": \"mg.relay.test\", \"state\": \"active\"}, "
                                + "\"receiving_dns_records\": [], \"sending_dns_records\": []}")));
        mailgun.stubFor(WireMock.get(domainUrl).atPriority(6).willReturn(aResponse().withStatus(401).withBody("Forbidden")));
        int sends = mailgun.findAll(postRequestedFor(urlEqualTo(SEND))).size();
        String base = "http://127.0.0.1:" + mailgun.port() + "/mailgun";

        assertThat(probe.probe(Map.of("providerId", "mailgun", "domain", "mg.relay.test", "apiKey", "key-mailgun-test",
                "region", "us", "baseUrl", base))).isEqualTo("domain mg.relay.test is active at " + base);
        assertThatThrownBy(() -> probe.probe(Map.of("providerId", "mailgun", "domain", "mg.relay.test",
                "apiKey", "key-wrong", "region", "us", "baseUrl", base)))
                .isInstanceOf(ProviderConfigurationException.class).hasMessage("HTTP 401: Forbidden");
        assertThat(mailgun.findAll(WireMock.getRequestedFor(urlEqualTo(domainUrl)))).hasSizeGreaterThanOrEqualTo(2);
        assertThat(mailgun.findAll(postRequestedFor(urlEqualTo(SEND)))).hasSize(sends);
    }

    @Test
    void aBadRequestIsPermanent() {
        String to = "invalid-" + UUID.randomUUID() + "@customer.test";
        mailgun.stubFor(WireMock.post(SEND).atPriority(1)
                .withMultipartRequestBody(aMultipart().withName("to").withBody(equalTo(to)))
                .willReturn(aResponse().withStatus(400).withHeader("Content-Type", "application/json")
                        .withBody("{\"message\": \"'to' parameter is not a valid address. please check documentation\"}")));

        String id = submit("via-mailgun", message("app@mg.relay.test", to, "refused"));
        awaitStatus(id, "FAILED");

        Map<String, Object> row = row(id);
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat((String) row.get("last_error")).isEqualTo("HTTP 400: 'to' parameter is not a valid address. "
                + "please check documentation");
        assertThat(eventTypes(id)).containsExactly("hard_bounce");
        assertThat(mailgun.findAll(postRequestedFor(urlEqualTo(SEND))
                .withAnyRequestBodyPart(aMultipart().withName("to").withBody(equalTo(to))))).hasSize(1);
    }

    @Test
    void aServerErrorIsRetriedUntilMailgunTakesTheMessage() {
        String to = "retry-" + UUID.randomUUID() + "@customer.test";
        String scenario = "mailgun-" + to;
        mailgun.stubFor(WireMock.post(SEND).atPriority(1).inScenario(scenario).whenScenarioStateIs(STARTED)
                .withMultipartRequestBody(aMultipart().withName("to").withBody(equalTo(to)))
                .willReturn(aResponse().withStatus(503).withBody("Service Unavailable"))
                .willSetStateTo("recovered"));
        mailgun.stubFor(WireMock.post(SEND).atPriority(1).inScenario(scenario).whenScenarioStateIs("recovered")
                .withMultipartRequestBody(aMultipart().withName("to").withBody(equalTo(to)))
                .willReturn(aResponse().withStatus(200).withHeader("Content-Type", "application/json")
                        .withBody(QUEUED.formatted("retried@mg.relay.test"))));

        String id = submit("via-mailgun", message("app@mg.relay.test", to, "put off"));
        awaitStatus(id, "SENT");

        assertThat(row(id).get("attempts")).isEqualTo(2);
        assertThat(row(id).get("provider_message_id")).isEqualTo("retried@mg.relay.test");
        assertThat(eventTypes(id)).containsExactly("deferral", "send");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theTemplateIsListedWithItsSecretMarked() {
        List<Map<String, Object>> templates = (List<Map<String, Object>>) read(get("admin-key",
                "/api/v1/routes/templates").body()).get("templates");
        Map<String, Object> template = templates.stream().filter(t -> "mailgun".equals(t.get("id"))).findFirst()
                .orElseThrow();
        assertThat(template).containsEntry("source", "jar").containsEntry("file", "mailgun.kamelet.yaml");
        List<Map<String, Object>> parameters = (List<Map<String, Object>>) template.get("parameters");
        assertThat(parameters).filteredOn(p -> "apiKey".equals(p.get("name"))).singleElement()
                .satisfies(p -> assertThat(p).containsEntry("secret", true).containsEntry("required", true)
                        .doesNotContainKey("default"));
        assertThat(parameters).filteredOn(p -> "region".equals(p.get("name"))).singleElement()
                .satisfies(p -> assertThat(p).containsEntry("default", "us"));
    }

    private LoggedRequest only(String to) {
        List<LoggedRequest> requests = mailgun.findAll(postRequestedFor(urlEqualTo(SEND))
                .withAnyRequestBodyPart(aMultipart().withName("to").withBody(equalTo(to))));
        assertThat(requests).hasSize(1);
        return requests.get(0);
    }

    private static List<String> parts(LoggedRequest request, String name) {
        return request.getParts().stream().filter(part -> name.equals(part.getName()))
                .map(Request.Part::getBody).map(body -> body.asString()).toList();
    }

    private boolean regionChoice(WhenDefinition when, String region, String baseUrl) {
        String expression = when.getExpression().getExpression().replace("{{region}}", region)
                .replace("{{baseUrl}}", baseUrl);
        return camel.resolveLanguage("simple").createPredicate(expression)
                .matches(new org.apache.camel.support.DefaultExchange(camel));
    }

    private TryDefinition innerTry() {
        List<ProcessorDefinition<?>> steps = ((ModelCamelContext) camel).getRouteTemplateDefinition("mailgun")
                .getRoute().getOutputs();
        TryDefinition deadline = (TryDefinition) steps.get(5);
        CircuitBreakerDefinition breaker = (CircuitBreakerDefinition) deadline.getOutputs().get(0);
        return (TryDefinition) breaker.getOutputs().get(0);
    }
}
