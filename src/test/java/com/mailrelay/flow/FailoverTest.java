package com.mailrelay.flow;

import java.util.ArrayList;
import java.util.List;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * chain-failover: provider-refusing (hangs up on every connection) then provider-fallback.
 * Its breaker opens after two failed calls (minimumNumberOfCalls = slidingWindowSize = 2).
 */
class FailoverTest extends RelayTestSupport {

    @Test
    void refusedConnectionsFailOverAndTheOpenBreakerStopsFurtherAttempts() {
        Upstreams.RefusingServer refusing = Upstreams.refusing();
        int before = refusing.connections();

        // Two messages, one at a time: each tries the refusing upstream, then the fallback.
        for (int i = 0; i < 2; i++) {
            String id = submit("failover", message("app@failover.test", "erin@customer.test", "failover " + i));
            awaitStatus(id, "SENT");
            assertThat(row(id).get("provider_id")).isEqualTo("fallback");
            assertThat(row(id).get("attempts")).as("failover happens within one attempt").isEqualTo(1);
        }
        assertThat(refusing.connections() - before).isEqualTo(2);

        // The breaker is now open: the next messages go straight to the fallback.
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(submit("failover", message("app@failover.test", "erin@customer.test", "open breaker " + i)));
        }
        for (String id : ids) {
            awaitStatus(id, "SENT");
            assertThat(row(id).get("provider_id")).isEqualTo("fallback");
            assertThat(Upstreams.received(Upstreams.greenMail("fallback"), id)).hasSize(1);
            assertThat(eventTypes(id)).containsExactly("send");
        }
        assertThat(refusing.connections() - before).as("no connection while the breaker is open").isEqualTo(2);
    }
}
