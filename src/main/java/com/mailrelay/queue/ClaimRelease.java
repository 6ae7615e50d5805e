package com.mailrelay.queue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.store.QueueStore;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.seda.SedaEndpoint;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * At shutdown, gives back the messages this instance claimed but no worker has started: they
 * would otherwise sit out their lease (minutes) before another instance may deliver them. Runs
 * before the Camel context stops (a higher phase): queue-wake and queue-poll are stopped first
 * (waiting for a claim in progress to be handed over), then seda:deliver is emptied and each
 * message released (due now, lease cleared). Deliveries already under way are left to finish in Camel's graceful
 * shutdown, their leases kept by {@link LeaseRenewal}.
 */
@Component
public class ClaimRelease implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ClaimRelease.class);
    private static final long POLL_STOP_SECONDS = 10;
    /** The routes that start a claim (QueueRoutes): the accepts' wake-ups and the poll. */
    private static final List<String> CLAIMING_ROUTES = List.of("queue-wake", "queue-poll");

    /**
     * The Camel context is looked up when needed, not injected: a lifecycle bean that depends on
     * it would make Spring start it early, before the routes are collected.
     */
    private final ApplicationContext application;
    private final QueueStore store;
    private volatile boolean running;

    public ClaimRelease(ApplicationContext application, QueueStore store) {
        this.application = application;
        this.store = store;
    }

    /** Stops claiming and releases what is claimed but not started; returns how many were released. */
    public int releaseUnstarted() {
        for (String claiming : CLAIMING_ROUTES) {
            try {
                if (camel().getRoute(claiming) != null) {
                    camel().getRouteController().stopRoute(claiming, POLL_STOP_SECONDS, TimeUnit.SECONDS);
                }
            } catch (Exception e) {
                log.warn("could not stop {} before releasing claimed messages: {}", claiming, e.toString());
            }
        }
        SedaEndpoint queue = camel().getEndpoint(QueueRoutes.WORK_QUEUE, SedaEndpoint.class);
        List<Exchange> unstarted = new ArrayList<>();
        queue.getQueue().drainTo(unstarted);
        List<ClaimedMessage> messages = new ArrayList<>();
        for (Exchange exchange : unstarted) {
            if (exchange.getMessage().getBody() instanceof ClaimedMessage message) {
                messages.add(message);
            }
        }
        if (messages.isEmpty()) {
            return 0;
        }
        try {
            int released = store.release(messages);
            log.info("released {} claimed message(s) no worker had started: due again now, for any instance",
                    released);
            return released;
        } catch (RuntimeException e) {
            // Their leases stand: they are delivered once those run out.
            log.warn("could not release {} claimed message(s); they are retried when their leases run out: {}",
                    messages.size(), e.toString());
            return 0;
        }
    }

    private CamelContext camel() {
        return application.getBean(CamelContext.class);
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        running = false;
        releaseUnstarted();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Above the Camel context's phase (Integer.MAX_VALUE - 2049): stopped before it stops its routes. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 1536;
    }
}
