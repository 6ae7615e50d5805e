package com.mailrelay.delivery;

import java.time.Instant;
import java.util.List;
import java.util.function.Supplier;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.DeliveryAttempt;
import com.mailrelay.message.DeliveryAttempt.Outcome;
import com.mailrelay.message.EventType;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.ChainAttempts;
import com.mailrelay.provider.ChainWaits;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.PermanentDeliveryException;
import com.mailrelay.provider.ProviderFailures;
import com.mailrelay.store.QueueStore;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/** Records how a delivery attempt ended; called by the deliver route and its route configuration. */
@Component("deliveryOutcomes")
public class DeliveryOutcomes {

    private static final Logger log = LoggerFactory.getLogger(DeliveryOutcomes.class);

    private final QueueStore store;
    private final RetryPolicy retryPolicy;
    private final MeterRegistry meters;

    public DeliveryOutcomes(QueueStore store, RetryPolicy retryPolicy, MeterRegistry meters) {
        this.store = store;
        this.retryPolicy = retryPolicy;
        this.meters = meters;
    }

    public void sent(Exchange exchange) {
        ClaimedMessage message = message(exchange);
        String provider = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_ID, String.class);
        String reply = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_REPLY, String.class);
        if (provider == null || reply == null) {
            // A provider route sets its reply as its last step: without one, nothing confirmed delivery.
            throw new NoProviderException(message.id().toString());
        }
        String providerMessageId = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_MESSAGE_ID, String.class);
        List<String> refused = recipients(exchange, RelayHeaders.REFUSED_RECIPIENTS);
        List<String> unsent = recipients(exchange, RelayHeaders.UNSENT_RECIPIENTS);
        boolean recorded;
        try {
            recorded = store.markSent(message, provider, reply, providerMessageId, refused, unsent,
                    unsent.isEmpty() ? null : retryPolicy.nextAttemptAt(1),
                    tries(exchange, () -> new DeliveryAttempt(provider, Outcome.SENT, null, reply, 0, Instant.now())));
        } catch (RuntimeException e) {
            // Delivered, but not even the status could be written (the database is away; a failure of
            // the events alone does not get here, see QueueStore). The lease runs out and the message
            // is sent again (at least once), at most up to max-attempts, which claims enforce.
            // Treating this as a delivery failure would defer or bounce mail that went out.
            log.error("message {} was accepted by {} but its outcome could not be recorded", message.id(), provider, e);
            return;
        }
        if (recorded) {
            count(message, "sent", provider);
            log.info("sent message {} attempt {} via {}: {}", message.id(), message.attempt(), provider, reply);
        }
    }

    /** Used by the route configuration's onException to tell a retryable failure from a final one. */
    public boolean retryable(Exchange exchange) {
        return retryPolicy.shouldRetry(message(exchange), failure(exchange));
    }

    public void deferred(Exchange exchange) {
        ClaimedMessage message = message(exchange);
        DeliveryException failure = failure(exchange);
        Instant retryAt = retryPolicy.nextAttemptAt(message.attempt(), failure,
                exchange.getProperty(RelayHeaders.CHAIN_WAITS, ChainWaits.class));
        if (store.markDeferred(message, failure.providerId(), failure.reply(), retryAt, failure.countsAsAttempt(),
                tries(exchange, () -> notTried(failure)))) {
            count(message, "deferred", failure.providerId());
            log.info("deferred message {} attempt {} until {}: {}", message.id(), message.attempt(), retryAt,
                    failure.reply());
        }
    }

    public void deadLettered(Exchange exchange) {
        ClaimedMessage message = message(exchange);
        DeliveryException failure = failure(exchange);
        EventType event = failure instanceof PermanentDeliveryException ? EventType.HARD_BOUNCE : EventType.SOFT_BOUNCE;
        // A hard bounce suppresses only the recipients the upstream refused by name (RCPT TO 5xx):
        // a 5xx to MAIL FROM or DATA says nothing about the recipients.
        List<String> suppress = failure instanceof PermanentDeliveryException permanent
                ? permanent.refusedRecipients() : List.of();
        if (store.markFailed(message, event, failure.providerId(), failure.reply(), suppress,
                tries(exchange, () -> notTried(failure)))) {
            count(message, "failed", failure.providerId());
            log.warn("dead-lettered message {} after attempt {} ({}): {}", message.id(), message.attempt(),
                    event.id(), failure.reply());
        }
    }

    /**
     * The providers the attempt tried, in order (provider/ChainAttempts); when it recorded none —
     * no branch of the router matched, the chain's route is missing, or a provider route that is not
     * a {@code direct:provider-<id>} — the one row {@code instead} says what happened.
     */
    private static List<DeliveryAttempt> tries(Exchange exchange, Supplier<DeliveryAttempt> instead) {
        ChainAttempts attempts = ChainAttempts.of(exchange);
        List<DeliveryAttempt> tries = attempts == null ? List.of() : attempts.tries();
        return tries.isEmpty() ? List.of(instead.get()) : tries;
    }

    /** No provider was reached: the relay's reason, with the provider it names if any. */
    private static DeliveryAttempt notTried(DeliveryException failure) {
        return new DeliveryAttempt(failure.providerId(), Outcome.NOT_TRIED, null, failure.reply(), 0, Instant.now());
    }

    @SuppressWarnings("unchecked")
    private static List<String> recipients(Exchange exchange, String header) {
        List<String> list = exchange.getMessage().getHeader(header, List.class);
        return list == null ? List.of() : list;
    }

    /** relay_deliveries_total{outcome, workspace, type, provider} on /actuator/prometheus. */
    private void count(ClaimedMessage message, String outcome, String provider) {
        meters.counter("relay.deliveries", "outcome", outcome, "workspace", message.workspaceId(),
                "type", message.emailType(), "provider", provider == null ? "none" : provider).increment();
    }

    private static ClaimedMessage message(Exchange exchange) {
        return exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
    }

    /** What went wrong, classified the one way providers classify it (unknown failures are transient). */
    private static DeliveryException failure(Exchange exchange) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        return ProviderFailures.classify(null, caught != null ? caught : exchange.getException());
    }
}
