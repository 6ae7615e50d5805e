package com.mailrelay.delivery;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.IntStream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Json;
import com.mailrelay.queue.TopicMessage;
import com.mailrelay.strategy.LeastInFlightLoadBalancer;
import org.apache.camel.CamelContext;
import org.apache.camel.Navigate;
import org.apache.camel.Processor;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The strategies of test-routes/strategies.camel.yaml end to end: submitted over REST or SMTP,
 * stored, claimed, put on the exchange by DeliveryHeaders (relayRecipientDomains,
 * relaySenderDomain, relayProviderOverride) and delivered by the provider the chain chose — two
 * outbox instances, strategy-a and strategy-b, the row's provider_id saying which. The
 * distribution strategies (weighted, round robin, least in flight) are measured in
 * StrategyRouteTest, where a thousand messages take a second.
 */
class StrategiesTest extends RelayTestSupport {

    @Value("${relay.outbox.directory}")
    String outbox;

    @Autowired
    ObjectMapper objectMapper;

    @Autowired
    CamelContext camel;

    /**
     * The balancers in the running relay, where the route file went through the allow-list and
     * leastInFlight is a bean of the relay: round robin gives two messages one to each provider;
     * weighted and least in flight deliver through one of the two.
     */
    @Test
    void eachBalancerDeliversInTheRelay() {
        List<String> roundRobin = IntStream.range(0, 2).mapToObj(i -> submit("via-roundrobin",
                message("app@rr.test", "olga@customer.test", "round robin " + i))).toList();
        List<String> weighted = IntStream.range(0, 4).mapToObj(i -> submit("via-weighted",
                message("app@weighted.test", "olga@customer.test", "weighted " + i))).toList();
        List<String> leastInFlight = IntStream.range(0, 4).mapToObj(i -> submit("via-leastinflight",
                message("app@lif.test", "olga@customer.test", "least in flight " + i))).toList();

        roundRobin.forEach(id -> awaitStatus(id, "SENT"));
        assertThat(roundRobin.stream().map(id -> row(id).get("provider_id")))
                .containsExactlyInAnyOrder("strategy-a", "strategy-b");
        for (String id : weighted) {
            awaitStatus(id, "SENT");
            assertThat(row(id).get("provider_id")).isIn(Set.of("strategy-a", "strategy-b"));
        }
        for (String id : leastInFlight) {
            awaitStatus(id, "SENT");
            assertThat(row(id).get("provider_id")).isIn(Set.of("strategy-a", "strategy-b"));
        }
        // A balancer of its own (a prototype bean): not shared with the allow-list's trial build of
        // the file, which would have added its never-started providers to the live one.
        List<LeastInFlightLoadBalancer> balancers = new ArrayList<>();
        balancers(camel.getRoute("chain-leastinflight").navigate(), balancers);
        assertThat(balancers).singleElement().satisfies(balancer -> assertThat(balancer.getProcessors()).hasSize(2));
        assertThat(camel.getRegistry().lookupByName("leastInFlight"))
                .isNotSameAs(camel.getRegistry().lookupByName("leastInFlight"));
    }

    /** The least-in-flight balancers under a route's processors. */
    private static void balancers(Navigate<Processor> node,
                                  List<LeastInFlightLoadBalancer> found) {
        if (node == null || !node.hasNext()) {
            return;
        }
        for (Processor processor : node.next()) {
            if (processor instanceof LeastInFlightLoadBalancer balancer) {
                found.add(balancer);
            } else if (processor instanceof Navigate<?> child) {
                @SuppressWarnings("unchecked")
                Navigate<Processor> next =
                        (Navigate<Processor>) child;
                balancers(next, found);
            }
        }
    }

    /** The Kafka queue's records carry the override; a record of an earlier version has none. */
    @Test
    void aKafkaRecordCarriesTheOverride() throws Exception {
        TopicMessage message = new TopicMessage(UUID.randomUUID(), "via-override", "transactional",
                "app@override.test", List.of("olga@customer.test"), List.of(), "s", new byte[] {'x'}, List.of(),
                Map.of(), null, null, null, null, Instant.parse("2026-01-01T00:00:00Z"), "strategy-b");

        String record = Json.write(message);
        assertThat(objectMapper.readValue(record, TopicMessage.class).providerOverride()).isEqualTo("strategy-b");
        String earlier = record.replace(",\"providerOverride\":\"strategy-b\"", "");
        assertThat(earlier).doesNotContain("providerOverride");
        assertThat(objectMapper.readValue(earlier, TopicMessage.class).providerOverride()).isNull();
    }

    @Test
    void recipientDomainRoutingSendsToTheConfiguredProvider() {
        String toB = submit("via-domain", message("app@domain.test", "olga@b.test", "domain b"));
        String toA = submit("via-domain", message("app@domain.test", "olga@a.test", "domain a"));

        assertSentBy(toB, "strategy-b");
        assertSentBy(toA, "strategy-a");
    }

    @Test
    void senderDomainRoutingSendsToTheConfiguredProvider() {
        String news = submit("via-sender", message("Offers@Mail.News.TEST", "olga@customer.test", "sender news"));
        String excluded = submit("via-sender", message("bounces@bounce.news.test", "olga@customer.test",
                "sender excluded"));
        String other = submit("via-sender", message("App@Example.TEST", "olga@customer.test", "sender other"));

        assertSentBy(news, "strategy-b");
        assertSentBy(excluded, "strategy-a");
        assertSentBy(other, "strategy-a");
    }

    @Test
    void anOverrideSendsToTheNamedProviderOnly() throws Exception {
        String named = submit("via-override", withProvider(message("app@override.test", "olga@customer.test",
                "override b"), "strategy-b"));
        String unnamed = submit("via-override", message("app@override.test", "olga@customer.test", "override none"));

        assertSentBy(named, "strategy-b");
        assertSentBy(unnamed, "strategy-a");
        assertThat(row(named)).containsEntry("provider_override", "strategy-b");
        assertThat(row(unnamed).get("provider_override")).isNull();
        assertThat(Path.of(outbox, "strategies", "b", named + ".eml")).exists();
        assertThat(Path.of(outbox, "strategies", "a", named + ".eml")).doesNotExist();
    }

    @Test
    void anOverrideIsRefusedForAWorkspaceWithoutProviderOverride() {
        long before = countMessages("via-domain");

        HttpResponse<String> response = post(key("via-domain"), withProvider(message("app@domain.test",
                "olga@customer.test", "not allowed"), "strategy-b"), Map.of());

        assertRefusedNamingProvider(response, "provider-override");
        assertThat(countMessages("via-domain")).as("nothing stored").isEqualTo(before);
    }

    @Test
    void anOverrideIsRefusedForAProviderThatDoesNotRun() {
        long before = countMessages("via-override");

        assertRefusedNamingProvider(post(key("via-override"), withProvider(message("app@override.test",
                "olga@customer.test", "unknown"), "strategy-z"), Map.of()), "no route provider-strategy-z");
        assertRefusedNamingProvider(post(key("via-override"), withProvider(message("app@override.test",
                "olga@customer.test", "not an id"), "../accept"), Map.of()), "is not a provider id");
        // The relay's own routes are not providers, though direct:<name> exists.
        assertRefusedNamingProvider(post(key("via-override"), withProvider(message("app@override.test",
                "olga@customer.test", "not a provider"), "dispatch"), Map.of()), "no route provider-dispatch");
        assertThat(countMessages("via-override")).as("nothing stored").isEqualTo(before);
    }

    /** SMTP names the provider in X-Relay-Provider, an instruction to the relay: not stored, not sent on. */
    @Test
    void smtpNamesTheProviderInAHeaderThatIsNotKept() throws Exception {
        String reply;
        String refused;
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("via-override", "override-password")).startsWith("235");
            reply = client.submit("app@override.test", "olga@customer.test", """
                    From: app@override.test\r
                    To: olga@customer.test\r
                    Subject: smtp override\r
                    X-Relay-Provider: strategy-b\r
                    \r
                    Through b only.\r
                    """);
            refused = client.submit("app@override.test", "olga@customer.test", """
                    From: app@override.test\r
                    To: olga@customer.test\r
                    Subject: smtp override unknown\r
                    X-Relay-Provider: strategy-z\r
                    \r
                    Nowhere.\r
                    """);
        }
        assertThat(reply).startsWith("250");
        String id = reply.substring(reply.lastIndexOf(' ') + 1);
        assertSentBy(id, "strategy-b");
        assertThat(new String((byte[]) row(id).get("raw_mime"), StandardCharsets.UTF_8))
                .contains("Subject: smtp override").doesNotContainIgnoringCase("X-Relay-Provider");
        assertThat(Files.readString(Path.of(outbox, "strategies", "b", id + ".eml")))
                .doesNotContainIgnoringCase("X-Relay-Provider");
        assertThat(refused).startsWith("550 5.7.1 X-Relay-Provider").contains("provider-strategy-z");
    }

    @Test
    void smtpRefusesTheHeaderForAWorkspaceWithoutProviderOverride() {
        try (SmtpConversation client = SmtpConversation.open(smtp.port())) {
            assertThat(client.login("acme", "acme-password")).startsWith("235");
            String reply = client.submit("app@acme.test", "olga@customer.test", """
                    From: app@acme.test\r
                    To: olga@customer.test\r
                    Subject: not allowed\r
                    X-Relay-Provider: strategy-b\r
                    \r
                    Refused.\r
                    """);
            assertThat(reply).startsWith("550 5.7.1 X-Relay-Provider").contains("provider-override");
        }
    }

    private static Map<String, Object> withProvider(Map<String, Object> message, String provider) {
        Map<String, Object> body = new HashMap<>(message);
        body.put("provider", provider);
        return body;
    }

    private void assertSentBy(String id, String provider) {
        awaitStatus(id, "SENT");
        assertThat(row(id)).containsEntry("provider_id", provider);
    }

    private static void assertRefusedNamingProvider(HttpResponse<String> response, String reason) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> errors = (List<Map<String, Object>>) read(response.body()).get("errors");
        assertThat(errors).singleElement().satisfies(error -> {
            assertThat(error).containsEntry("field", "provider");
            assertThat((String) error.get("message")).contains(reason);
        });
    }
}
