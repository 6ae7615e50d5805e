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
