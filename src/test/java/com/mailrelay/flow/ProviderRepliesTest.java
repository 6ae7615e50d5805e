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

    @Test
    void aRefusedRecipientDoesNotStopTheOthers() {
        String refused = "reject-" + System.nanoTime() + "@customer.test";
        String taken = "taken-" + System.nanoTime() + "@customer.test";
        String id = submit("retry", java.util.Map.of("from", "app@retry.test", "to", List.of(refused, taken),
                "subject", "partly refused", "text", "x"));
        awaitStatus(id, "SENT");
        assertThat(eventTypes(id)).containsExactlyInAnyOrder("send", "hard_bounce");
        assertThat(Upstreams.scripted().deliveredTo(taken)).hasSize(1);
        assertThat(jdbc.queryForObject("select status from recipients where email = ?", String.class, refused))
                .isEqualTo("BOUNCED");
    }

    @Test
    void aPutOffRecipientContinuesAsItsOwnMessage() {
        String putOff = "flaky-" + System.nanoTime() + "@customer.test";
        String taken = "taken-" + System.nanoTime() + "@customer.test";
        String id = submit("retry", java.util.Map.of("from", "app@retry.test", "to", List.of(putOff, taken),
                "subject", "partly put off", "text", "x"));
        awaitStatus(id, "SENT");
        assertThat(eventTypes(id)).containsExactly("send");
        assertThat(Upstreams.scripted().deliveredTo(taken)).hasSize(1);

        // The put-off recipient continues in a message of its own, retried until the upstream takes it.
        String continuation = org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() ->
                jdbc.queryForList("select id from messages where recipients = ?", String.class,
                        "[\"" + putOff + "\"]"), list -> list.size() == 1).get(0);
        awaitStatus(continuation, "SENT");
        assertThat(eventTypes(continuation)).containsExactly("deferral", "deferral", "send");
        assertThat(Upstreams.scripted().deliveredTo(putOff)).hasSize(1);
        assertThat(Upstreams.scripted().deliveredTo(taken)).hasSize(1);
    }
}
