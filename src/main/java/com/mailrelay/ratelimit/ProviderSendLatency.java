package com.mailrelay.ratelimit;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.springframework.stereotype.Component;

/**
 * How long a send through a provider with quotas takes from its quota step to the provider's
 * answer, so that {@link ProviderQuotas} can tell a send that may reach the provider only in the
 * next window: a provider counts a message when it arrives, the relay when it starts sending it.
 *
 * <p>The quota step marks the exchange with the time it took the send ({@link #TAKEN_AT}); when
 * the provider route's call endpoint (its {@code to} that is not a {@code direct:}) answers,
 * Camel's ExchangeSentEvent tells that it ended. The estimate per provider is the longest
 * recent one (each new sample, or the previous estimate decayed by 2 %), so that it follows a
 * slower provider at once and a faster one over some fifty sends. Exchanges without the mark (every
 * provider without quotas) cost one property lookup per call.
 */
@Component
public class ProviderSendLatency extends EventNotifierSupport {

    /** Exchange property: System.nanoTime() when the quota step took the send. */
    static final String TAKEN_AT = "relayQuotaTakenAt";

    private static final double DECAY = 0.98;

    private final Map<String, Long> estimates = new ConcurrentHashMap<>();

    /**
     * Before a provider's first answer its send time is unknown, and the first sends (new
     * connections, code not yet compiled) are the slowest: taken as this long until measured.
     */
    static final Duration UNMEASURED = Duration.ofSeconds(1);

    /** The longest recent time from taking a send of the provider to its answer ({@link #UNMEASURED} before any). */
    public Duration estimate(String providerId) {
        Long nanos = estimates.get(providerId);
        return nanos == null ? UNMEASURED : Duration.ofNanos(nanos);
    }

    void record(String providerId, long nanos) {
        estimates.merge(providerId, nanos, (previous, sample) -> Math.max(sample, (long) (previous * DECAY)));
    }

    /** A Spring bean, so that Camel registers it as an event notifier (camel-main) before it starts. */
    public ProviderSendLatency() {
        setIgnoreCamelContextEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeCompletedEvent(true);
        setIgnoreExchangeFailedEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
    }

    /**
     * Sending events too, though they are not used: Camel times a send, and tells of it when it
     * ends, only when some notifier took the event of its start.
     */
    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.ExchangeSentEvent || event instanceof CamelEvent.ExchangeSendingEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (!(event instanceof CamelEvent.ExchangeSentEvent sent)) {
            return;
        }
        Exchange exchange = sent.getExchange();
        Long takenAt = exchange.getProperty(TAKEN_AT, Long.class);
        // Only sends that reached the provider: a failed one arrived nowhere.
        if (takenAt == null || exchange.getException() != null
                || sent.getEndpoint().getEndpointUri().startsWith("direct:")) {
            return;
        }
        String providerId = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_ID, String.class);
        if (providerId != null) {
            record(providerId, System.nanoTime() - takenAt);
        }
    }
}
