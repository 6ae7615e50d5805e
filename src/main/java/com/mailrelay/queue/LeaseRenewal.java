package com.mailrelay.queue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.store.QueueStore;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.seda.SedaEndpoint;
import org.apache.camel.spi.InflightRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.ApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Keeps the leases of the messages this instance works on. Every lease/3 it extends, in one
 * batch, the lease of each message that is being delivered here (an exchange in flight carrying
 * it, in deliver or queue-deliver) or waiting in seda:deliver for a worker — so that a send
 * slower than the lease (a large message to a slow upstream) is not claimed and sent a second
 * time by another worker. A message whose exchange ended, or whose instance died, is no longer
 * renewed: its lease runs out as before. What is in flight is Camel's own account, so nothing
 * here can keep a lease alive for work that no longer runs.
 *
 * <p>Stopped after the Camel context (a lower phase), so that leases hold while in-flight
 * deliveries drain at shutdown.
 */
@Component
public class LeaseRenewal implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(LeaseRenewal.class);

    /**
     * The Camel context is looked up when needed, not injected: a lifecycle bean that depends on
     * it would make Spring start it early, before the routes are collected.
     */
    private final ApplicationContext application;
    private final QueueStore store;
    private final Duration lease;
    private ScheduledExecutorService timer;

    public LeaseRenewal(ApplicationContext application, QueueStore store, RelayProperties properties) {
        this.application = application;
        this.store = store;
        this.lease = properties.worker().lease();
    }

    /** Extends the leases of what this instance holds now; returns how many were extended. */
    public int renew() {
        List<ClaimedMessage> held = held();
        return held.isEmpty() ? 0 : store.renew(held, lease);
    }

    /** The messages this instance is delivering or has queued for its workers, each once. */
    List<ClaimedMessage> held() {
        Map<UUID, ClaimedMessage> held = new LinkedHashMap<>();
        for (InflightRepository.InflightExchange inflight : camel().getInflightRepository().browse()) {
            ClaimedMessage message = inflight.getExchange().getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
            if (message != null) {
                held.put(message.id(), message);
            }
        }
        for (ClaimedMessage waiting : waiting()) {
            held.putIfAbsent(waiting.id(), waiting);
        }
        return new ArrayList<>(held.values());
    }

    /** Claimed messages in seda:deliver that no worker has started yet. */
    private List<ClaimedMessage> waiting() {
        SedaEndpoint queue = camel().getEndpoint(QueueRoutes.WORK_QUEUE, SedaEndpoint.class);
        List<ClaimedMessage> waiting = new ArrayList<>();
        for (Exchange exchange : queue.getExchanges()) {
            if (exchange.getMessage().getBody() instanceof ClaimedMessage message) {
                waiting.add(message);
            }
        }
        return waiting;
    }

    private void renewQuietly() {
        try {
            int renewed = renew();
            if (renewed > 0) {
                log.debug("renewed the leases of {} message(s) for {}", renewed, lease);
            }
        } catch (RuntimeException e) {
            // The database is away: the next round tries again, well before the leases run out.
            log.warn("lease renewal failed: {}", e.toString());
        }
    }

    private CamelContext camel() {
        return application.getBean(CamelContext.class);
    }

    @Override
    public synchronized void start() {
        if (timer != null) {
            return;
        }
        // Exchanges in flight are listed only when browsing is on (a map entry per exchange).
        camel().getInflightRepository().setInflightBrowseEnabled(true);
        timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "lease-renewal");
            thread.setDaemon(true);
            return thread;
        });
        long period = Math.max(100, lease.toMillis() / 3);
        timer.scheduleWithFixedDelay(this::renewQuietly, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public synchronized void stop() {
        if (timer != null) {
            timer.shutdownNow();
            timer = null;
        }
    }

    @Override
    public boolean isRunning() {
        return timer != null;
    }

    /** Below the Camel context's phase (Integer.MAX_VALUE - 2049): started before it, stopped after it. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE - 4096;
    }
}
