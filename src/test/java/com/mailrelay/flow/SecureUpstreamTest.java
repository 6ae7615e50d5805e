package com.mailrelay.flow;

import java.time.Duration;

import com.mailrelay.provider.ProviderBreakers;
import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The smtp template over TLS (smtps) with AUTH, against GreenMail holding one user. */
class SecureUpstreamTest extends RelayTestSupport {

    @Autowired
    ProviderBreakers breakers;

    @Autowired
    MeterRegistry meters;

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
        // A configuration fault, not a failed attempt: the message keeps its attempts while it
        // waits, and the provider's breaker is open at once, with a metric saying why.
        assertThat(row(id).get("status")).isEqualTo("DEFERRED");
        assertThat(((Number) row(id).get("attempts")).intValue()).isZero();
        assertThat(breakers.breaker("badauth")).get().extracting(ResilienceProcessor::getCircuitBreakerState)
                .isEqualTo("OPEN");
        assertThat(meters.counter("relay.provider.configuration.faults", "provider", "badauth").count())
                .isGreaterThanOrEqualTo(1);
    }
}
