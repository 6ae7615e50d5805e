package com.mailrelay.queue;

import com.mailrelay.support.RelayTestSupport;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The poll is the backstop: a message whose accept woke nothing (here the wake-up's consumer is
 * stopped, as after a lost wake-up) is still claimed and delivered, by {@code queue-poll}.
 */
class QueueBackstopTest extends RelayTestSupport {

    @Autowired
    private CamelContext camel;

    @Test
    void aMessageNoWakeUpAnnouncesIsDeliveredByThePoll() throws Exception {
        camel.getRouteController().stopRoute("queue-wake");
        try {
            String id = submit("acme", message("app@acme.test", "unwoken@customer.test", "found by the poll"));
            awaitStatus(id, "SENT");
            assertThat(eventTypes(id)).containsExactly("send");
        } finally {
            camel.getRouteController().startRoute("queue-wake");
        }
    }
}
