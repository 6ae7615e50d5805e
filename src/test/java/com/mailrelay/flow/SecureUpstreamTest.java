package com.mailrelay.flow;

import java.time.Duration;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The smtp template over TLS (smtps) with AUTH, against GreenMail holding one user. */
class SecureUpstreamTest extends RelayTestSupport {

    @Test
    void deliversOverTlsWithCredentials() {
        String id = submit("secure", message("app@secure.test", "kim@customer.test", "over tls"));
        awaitStatus(id, "SENT");
        assertThat(row(id).get("provider_id")).isEqualTo("secure");
        await().atMost(Duration.ofSeconds(10))
                .until(() -> Upstreams.received(Upstreams.secure(), id).size() == 1);
    }

    @Test
    void refusedCredentialsAreTheRelaysProblemNotTheMessages() {
        // A wrong password must not bounce the message: it is deferred and retried.
        String id = submit("badauth", message("app@badauth.test", "lee@customer.test", "bad credentials"));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(eventTypes(id)).contains("deferral"));
        assertThat(eventTypes(id)).doesNotContain("hard_bounce");
        assertThat((String) row(id).get("last_error")).containsIgnoringCase("auth");
        assertThat(Upstreams.received(Upstreams.secure(), id)).isEmpty();
    }
}
