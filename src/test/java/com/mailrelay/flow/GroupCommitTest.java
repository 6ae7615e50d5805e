package com.mailrelay.flow;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/** Concurrent accepts share commits, and each caller still gets its own message, stored and delivered once. */
class GroupCommitTest extends RelayTestSupport {

    private static final int CLIENTS = 40;

    @Autowired
    MeterRegistry meters;

    @Autowired
    CamelContext camel;

    @Test
    void concurrentSubmissionsAreCommittedTogetherAndEachIsDeliveredOnce() throws Exception {
        DistributionSummary batches = meters.get("relay.commit.batch").summary();
        long commitsBefore = batches.count();
        double messagesBefore = batches.totalAmount();

        // Deliveries (whose outcomes are group-committed too) wait until every accept is counted.
        camel.getRouteController().stopRoute("queue-wake");
        camel.getRouteController().stopRoute("queue-poll");
        String run = "gc-" + System.nanoTime();
        List<Future<String>> answers = new ArrayList<>();
        ExecutorService clients = Executors.newFixedThreadPool(CLIENTS);
        try {
            for (int i = 0; i < CLIENTS; i++) {
                String subject = run + "-" + i;
                answers.add(clients.submit(() -> submit("acme", message("app@acme.test", "ops@customer.test", subject))));
            }
            List<String> ids = new ArrayList<>();
            for (Future<String> answer : answers) {
                ids.add(answer.get());
            }

            assertThat(new HashSet<>(ids)).as("one id per caller").hasSize(CLIENTS);
            // Every accept went through a group commit, in as many commits as messages or fewer.
            assertThat(batches.totalAmount() - messagesBefore).isEqualTo(CLIENTS);
            assertThat(batches.count() - commitsBefore).isBetween(1L, (long) CLIENTS);

            camel.getRouteController().startRoute("queue-poll");

            camel.getRouteController().startRoute("queue-wake");
            for (String id : ids) {
                awaitStatus(id, "SENT");
                assertThat(eventTypes(id)).containsExactly("send");
                assertThat(Upstreams.received(Upstreams.greenMail("acme-transactional"), id)).hasSize(1);
            }
        } finally {
            clients.shutdownNow();
            camel.getRouteController().startRoute("queue-poll");
            camel.getRouteController().startRoute("queue-wake");
        }
    }
}
