package com.mailrelay.queue;

import java.time.Duration;
import java.util.List;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.config.StartupOrder;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.store.QueueStore;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangePattern;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.builder.endpoint.dsl.SchedulerEndpointBuilderFactory.SchedulerEndpointBuilder;
import org.apache.camel.component.seda.SedaEndpoint;
import org.springframework.stereotype.Component;

import static org.apache.camel.builder.endpoint.StaticEndpointBuilders.scheduler;

/**
 * The database queue's consumer: {@code queue-claim} leases due messages and puts them in
 * {@code seda:deliver}, whose relay.worker.threads workers ({@code queue-work}) hand each one to
 * {@code direct:deliver} (delivery/DeliveryRoutes).
 * <p>
 * Two things start a claim. An accept that committed a message due now sends a wake-up to
 * {@code direct:queue-wake} (accept/AcceptRoutes), and {@code queue-wake} claims at once, so
 * that an idle relay delivers in milliseconds rather than at its next poll. {@code queue-poll},
 * the scheduler, is the backstop: it finds what no wake-up announces (retries and scheduled sends
 * that fell due, a lease that ran out, a pause lifted, messages accepted by another instance, a
 * wake-up lost) and keeps claiming every 20 ms while there is work. The wake-up queue holds one:
 * more that come while one waits are dropped, as the waiting one claims their messages too (it
 * claims after they were committed); one that comes while a claim runs waits for it, so a commit
 * made during a claim is never missed. One claim runs at a time, whoever started it: each one
 * counts what the claims before it handed to the workers.
 */
@Component
public class QueueRoutes extends RouteBuilder {

    public static final String WORK_QUEUE = "seda:deliver?size=1024&blockWhenFull=true";
    /** The wake-up queue: one waiting wake-up at most, one consumer (used as is by producer and consumer). */
    static final String WAKE = "seda:queue-wake?size=1&discardWhenFull=true";
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
                .to("direct:queue-claim");

        // An accept's commit (sent after it, never before: the claim must find the row). Offered,
        // not waited on: a full queue drops it, and the sender goes on at once.
        from("direct:queue-wake").routeId("queue-wake-offer")
                .to(ExchangePattern.InOnly, WAKE);

        from(WAKE)
                .routeId("queue-wake")
                .group(worker.enabled() ? StartupOrder.AFTER_ROUTE_FILES : null)
                .autoStartup(false)
                // The wake-up is a copy of the accept's exchange: nothing of the submission (its
                // HTTP or SMTP headers, its properties, its body) may follow the claimed messages
                // into delivery, where an HTTP provider would take CamelHttpUri/Path for its own.
                .removeHeaders("*")
                .removeProperties("*")
                .setBody(constant(null))
                .to("direct:queue-claim");

        // One claim at a time (held until the poll's or wake-up's exchange is done, i.e. until what
        // it claimed is in seda:deliver): concurrent claims would each count the same free workers.
        from("direct:queue-claim")
                .routeId("queue-claim")
                .throttle(1).concurrentRequestsMode()
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
