package com.mailrelay.flow;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** test-routes/dispatch.camel.yaml sends each workspace × email type to its own upstream. */
class RoutingTest extends RelayTestSupport {

    @org.junit.jupiter.api.Test
    void theRecipientDomainCanChooseTheUpstream() {
        String id = submit("acme", message("app@acme.test", "vera@vip.test", "domain routed"));
        awaitStatus(id, "SENT");
        assertThat(row(id).get("provider_id")).isEqualTo("globex-transactional");
        // Mixed domains do not match the vip.test branch.
        String mixed = submit("acme", Map.of("from", "app@acme.test", "to", java.util.List.of("vera@vip.test",
                "walt@customer.test"), "subject", "mixed domains", "text", "x"));
        awaitStatus(mixed, "SENT");
        assertThat(row(mixed).get("provider_id")).isEqualTo("acme-transactional");
    }

    @ParameterizedTest(name = "{0} {1} → {2}")
    @CsvSource({
            "acme,   transactional, acme-transactional",
            "acme,   marketing,     acme-marketing",
            "globex, transactional, globex-transactional",
            "globex, marketing,     globex-marketing",
            "globex, ,              globex-marketing",   // globex's default type is marketing
    })
    void workspaceAndTypeChooseTheUpstream(String workspace, String type, String expectedUpstream) {
        String subject = "routing " + workspace + " " + type + " " + System.nanoTime();
        Map<String, Object> message = new HashMap<>(message("app@" + workspace + ".test", "dana@customer.test", subject));
        if (type != null) {
            message.put("type", type);
        }
        String id = submit(workspace, message);
        awaitStatus(id, "SENT");
        assertThat(row(id).get("provider_id")).isEqualTo(expectedUpstream);

        await().atMost(Duration.ofSeconds(10)).until(() ->
                Upstreams.received(Upstreams.greenMail(expectedUpstream), id).size() == 1);
        for (String other : Upstreams.GREENMAIL_IDS) {
            if (!other.equals(expectedUpstream)) {
                assertThat(Upstreams.received(Upstreams.greenMail(other), id)).as(other).isEmpty();
            }
        }
    }
}
