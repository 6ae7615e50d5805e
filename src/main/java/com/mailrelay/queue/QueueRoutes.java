package com.mailrelay.queue;

import java.time.Duration;
import java.util.List;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.config.StartupOrder;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.store.QueueStore;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.builder.endpoint.dsl.SchedulerEndpointBuilderFactory.SchedulerEndpointBuilder;
import org.apache.camel.component.seda.SedaEndpoint;
import org.springframework.stereotype.Component;

import static org.apache.camel.builder.endpoint.StaticEndpointBuilders.scheduler;

/**
 * The database queue's consumer: {@code queue-poll} leases due messages and puts them in
 * {@code seda:deliver}, whose relay.worker.threads workers ({@code queue-work}) hand each one to
 * {@code direct:deliver} (delivery/DeliveryRoutes).
 */
@Component
public class QueueRoutes extends RouteBuilder {

    public static final String WORK_QUEUE = "seda:deliver?size=1024&blockWhenFull=true";
    private static final Duration BUSY_POLL = Duration.ofMillis(20);

    private final QueueStore store;
    private final RelayProperties.Worker worker;

    public QueueRoutes(QueueStore store, RelayProperties properties) {
        this.store = store;
        this.worker = properties.worker();
    }

    @Override
    public void configure() {
        from(pollEndpoint())
                .routeId("queue-poll")
                // Started once routes/ is loaded (StartupOrder), when this instance runs workers.
                .group(worker.enabled() ? StartupOrder.AFTER_ROUTE_FILES : null)
                .autoStartup(false)
                .process(this::claim)
                .split(body())
                    .to(WORK_QUEUE)
                .end();

        // The workers: each takes one claimed message into delivery (the deliver route, delivery/).
        from(WORK_QUEUE + "&concurrentConsumers={{relay.worker.threads}}")
                .routeId("queue-work")
                .to("direct:deliver");
    }

    /**
     * Polls every {@link #BUSY_POLL} while there is work, and backs off to relay.worker.poll-delay
     * once polls find nothing due. A poll that finds the workers saturated counts as busy, not
     * idle: polling only every poll-delay then would leave the workers waiting for work between
     * polls (a full pipeline drains in far less than 200 ms).
     */
    private SchedulerEndpointBuilder pollEndpoint() {
        long busy = Math.max(1, Math.min(BUSY_POLL.toMillis(), worker.pollDelay().toMillis()));
        long idleMultiplier = Math.max(1, worker.pollDelay().toMillis() / busy);
        return scheduler("queue-poll")
                .delay(busy)
                .backoffIdleThreshold(5)
                // Failing claims (database down) back off too, instead of failing every 20 ms.
                .backoffErrorThreshold(3)
                .backoffMultiplier(Math.toIntExact(idleMultiplier));
    }

    /**
     * Claims only what the workers can start on soon: a lease taken for a message that then waits
     * in memory is time another instance could have used.
     */
    private void claim(Exchange exchange) {
        exchange.setProperty(Exchange.SCHEDULER_POLLED_MESSAGES, false);   // until the claim succeeds
        SedaEndpoint queue = getContext().getEndpoint(WORK_QUEUE, SedaEndpoint.class);
        int busy = queue.getCurrentQueueSize() + getContext().getInflightRepository().size("queue-work");
        int capacity = Math.min(worker.batchSize(), 2 * worker.threads() - busy);
        List<ClaimedMessage> claimed = store.claim(capacity, worker.lease());
        exchange.getMessage().setBody(claimed);
        // Idle (so the scheduler may back off) only when the database had nothing due for free workers.
        exchange.setProperty(Exchange.SCHEDULER_POLLED_MESSAGES, !claimed.isEmpty() || capacity <= 0);
    }
}
