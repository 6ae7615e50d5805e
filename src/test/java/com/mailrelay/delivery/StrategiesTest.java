package com.mailrelay.delivery;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.SmtpConversation;
import org.junit.jupiter.api.Test;
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
