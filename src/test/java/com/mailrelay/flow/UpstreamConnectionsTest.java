package com.mailrelay.flow;

import java.util.ArrayList;
import java.util.List;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import com.mailrelay.support.Upstreams.ScriptedServer.Delivery;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Upstream SMTP connections are kept open between messages, and dropped after a failure. */
class UpstreamConnectionsTest extends RelayTestSupport {

    @Test
    void consecutiveMessagesReuseOneConnection() {
        List<String> connections = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String recipient = "pooled-" + i + "-" + System.nanoTime() + "@customer.test";
            String id = submit("retry", message("app@retry.test", recipient, "reused " + i));
            awaitStatus(id, "SENT");
            connections.add(only(Upstreams.scripted().deliveredTo(recipient)).connection());
        }
        assertThat(connections).as("one connection for all five messages").containsOnly(connections.get(0));
    }

    @Test
    void aConnectionWhoseTransactionFailedIsNotReused() {
        String before = "pooled-before-" + System.nanoTime() + "@customer.test";
        awaitStatus(submit("retry", message("app@retry.test", before, "before")), "SENT");
        String first = only(Upstreams.scripted().deliveredTo(before)).connection();

        // A 550 for the only recipient, over the same kept-open connection: the transaction fails
        // and that connection is closed.
        String refused = "reject-" + System.nanoTime() + "@customer.test";
        awaitStatus(submit("retry", message("app@retry.test", refused, "refused")), "FAILED");
        assertThat(Upstreams.scripted().lastTriedOver(refused)).isEqualTo(first);

        String after = "pooled-after-" + System.nanoTime() + "@customer.test";
        String id = submit("retry", message("app@retry.test", after, "after"));
        awaitStatus(id, "SENT");
        assertThat(eventTypes(id)).containsExactly("send");
        assertThat(only(Upstreams.scripted().deliveredTo(after)).connection()).isNotEqualTo(first);
        // The failed transaction went no further than RCPT TO: nothing reached DATA over it.
        assertThat(Upstreams.scripted().deliveredTo(refused)).isEmpty();
    }

    @Test
    void aKeptOpenConnectionTheUpstreamNoLongerServesIsReplacedWithoutFailingTheMessage() {
        // The upstream answers 421 to a second MAIL FROM <once@...> on one connection.
        String first = "pooled-once-1-" + System.nanoTime() + "@customer.test";
        awaitStatus(submit("retry", message("once@retry.test", first, "once 1")), "SENT");
        String second = "pooled-once-2-" + System.nanoTime() + "@customer.test";
        String id = submit("retry", message("once@retry.test", second, "once 2"));
        awaitStatus(id, "SENT");

        // Sent at its first attempt, over a new connection, with no deferral in between.
        assertThat(row(id).get("attempts")).isEqualTo(1);
        assertThat(eventTypes(id)).containsExactly("send");
        assertThat(only(Upstreams.scripted().deliveredTo(second)).connection())
                .isNotEqualTo(only(Upstreams.scripted().deliveredTo(first)).connection());
    }

    private static Delivery only(List<Delivery> deliveries) {
        assertThat(deliveries).hasSize(1);
        return deliveries.get(0);
    }
}
