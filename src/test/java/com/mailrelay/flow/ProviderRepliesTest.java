package com.mailrelay.flow;

import java.util.List;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** How SMTP replies of the (scripted) upstream become outcomes. */
class ProviderRepliesTest extends RelayTestSupport {

    @Test
    void permanentRefusalFailsAtOnceWithoutFailover() {
        // chain-strict: scripted, then spare — a 550 must not move on to the spare.
        String id = submit("strict", message("app@strict.test", "reject-frank@customer.test", "hard bounce"));
        awaitStatus(id, "FAILED");

        var row = row(id);
        assertThat(row.get("attempts")).isEqualTo(1);
        assertThat(row.get("next_attempt_at")).isNull();
        assertThat(row.get("provider_id")).isEqualTo("scripted");
        assertThat((String) row.get("last_error")).contains("550").contains("mailbox does not exist");
        assertThat(eventTypes(id)).containsExactly("hard_bounce");
        assertThat(Upstreams.scripted().tries("reject-frank@customer.test")).isEqualTo(1);
        assertThat(Upstreams.received(Upstreams.greenMail("spare"), id)).isEmpty();
    }

    @Test
    void transientRefusalIsDeferredAndRetriedUntilAccepted() {
        // workspace retry → provider-scripted alone; flaky* gets 451 twice, then 250.
        String recipient = "flaky-gina@customer.test";
        String id = submit("retry", message("app@retry.test", recipient, "soft then ok"));
        awaitStatus(id, "SENT");

        var row = row(id);
        assertThat(row.get("attempts")).isEqualTo(3);
        assertThat(row.get("provider_id")).isEqualTo("scripted");
        assertThat(eventTypes(id)).containsExactly("deferral", "deferral", "send");
        List<Upstreams.ScriptedServer.Delivery> deliveries = Upstreams.scripted().deliveredTo(recipient);
        assertThat(deliveries).hasSize(1);
        assertThat(new String(deliveries.get(0).data())).contains("Subject: soft then ok");
        assertThat(deliveries.get(0).from()).isEqualTo("app@retry.test");
    }

    @Test
    void retriesEndInTheDeadLetterChannelWhenAttemptsRunOut() {
        // busy* always gets 451; the test profile allows 5 attempts.
        String id = submit("retry", message("app@retry.test", "busy-harry@customer.test", "never accepted"));
        awaitStatus(id, "FAILED");

        var row = row(id);
        assertThat(row.get("attempts")).isEqualTo(5);
        assertThat((String) row.get("last_error")).contains("451");
        assertThat(eventTypes(id)).containsExactly("deferral", "deferral", "deferral", "deferral", "soft_bounce");
        assertThat(Upstreams.scripted().tries("busy-harry@customer.test")).isEqualTo(5);
        assertThat(Upstreams.scripted().deliveredTo("busy-harry@customer.test")).isEmpty();
    }
}
