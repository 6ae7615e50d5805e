package com.mailrelay.metrics;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.accept.AcceptRoutes;
import com.mailrelay.message.Accepted;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Refusal;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.message.Submission;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.util.ObjectHelper;
import org.springframework.stereotype.Component;

/**
 * The series of a message's way through the relay, taken from Camel's exchange events at the
 * seams every message crosses (so no accept, delivery or provider step changes for them):
 * <ul>
 * <li>the send to {@code direct:accept} (both ingresses): {@code relay_accept_latency_seconds{ingress}}
 *     from the start of the submission's exchange (REST: the request reached its route; SMTP: the
 *     end of DATA) to the durable accept its 202 / 250 answers, and
 *     {@code relay_rejected_total{workspace, type, reason}} for what the accept path refused (the
 *     refusal's error code) and for messages kept REJECTED because every recipient is suppressed
 *     ({@code reason="suppressed"}); REST refusals before the accept path (a 400 of the request's
 *     fields) are counted when the request completes, with type {@code unknown};</li>
 * <li>the sends to {@code direct:provider-*}: {@code relay_provider_failovers_total{from, to}} when a
 *     provider failed and the next one of the same delivery was tried. The failover load balancer
 *     runs each provider on a copy of the exchange; the trail is an object put on the exchange
 *     before dispatch, which every copy shares by reference;</li>
 * <li>the send to {@code direct:dispatch} that a provider confirmed:
 *     {@code relay_delivery_latency_seconds{type, provider}} from queued_at to the confirmation,
 *     retries included.</li>
 * </ul>
 * Labels are bounded: ingress, workspace, type, provider, reason — never a message id or address.
 * The histograms carry no workspace (buckets × workspaces would grow with the tenants); the
 * counters do. Buckets are fixed SLO boundaries (see {@link #ACCEPT_BUCKETS}, {@link #DELIVERY_BUCKETS}).
 */
@Component
public class FlowMetrics extends EventNotifierSupport {

    /** Exchange property: the {@link Trail} of one delivery's providers. */
    static final String TRAIL = "relayProviderTrail";
    /** Exchange property: the refusal was counted already (at the accept path). */
    private static final String REJECTION_COUNTED = "relayRejectionCounted";

    /**
     * Accept: a group commit answers in a few ms on a quiet relay, tens of ms under load (fsync),
     * seconds only when something is wrong (database slow, Kafka acknowledgements). The edges are
     * those an SLO names ("99 % within 250 ms"), so that an alert reads one bucket exactly;
     * twelve buckets instead of a percentile histogram's ~70 keep the series few.
     */
    static final Duration[] ACCEPT_BUCKETS = durations(5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000);

    /**
     * Accept to delivered: seconds when the first attempt succeeds, minutes to hours through
     * retries (backoff up to relay.retry.max-backoff, the last attempt at relay.retry.max-age, 24 h
     * by default).
     */
    static final Duration[] DELIVERY_BUCKETS = new Duration[] {
            Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30),
            Duration.ofMinutes(1), Duration.ofMinutes(2), Duration.ofMinutes(5), Duration.ofMinutes(15),
            Duration.ofMinutes(30), Duration.ofHours(1), Duration.ofHours(3), Duration.ofHours(6),
            Duration.ofHours(12), Duration.ofHours(24)};

    /** The providers one delivery tried so far: the one that failed last, if it did. */
    static final class Trail {
        private volatile String failed;
    }

    private final MeterRegistry meters;
    private final Map<String, Timer> acceptTimers = new ConcurrentHashMap<>();
    private final Map<String, Timer> deliveryTimers = new ConcurrentHashMap<>();

    public FlowMetrics(MeterRegistry meters) {
        this.meters = meters;
        setIgnoreCamelContextEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeFailedEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.ExchangeSendingEvent || event instanceof CamelEvent.ExchangeSentEvent
                || event instanceof CamelEvent.ExchangeCompletedEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof CamelEvent.ExchangeSendingEvent sending) {
            if ("dispatch".equals(direct(sending.getEndpoint().getEndpointUri()))) {
                sending.getExchange().setProperty(TRAIL, new Trail());
            }
        } else if (event instanceof CamelEvent.ExchangeSentEvent sent) {
            String target = direct(sent.getEndpoint().getEndpointUri());
            if (target == null) {
                return;
            }
            if (target.startsWith("provider-")) {
                providerTried(sent.getExchange(), target.substring("provider-".length()));
            } else if ("dispatch".equals(target)) {
                dispatched(sent.getExchange());
            } else if ("accept".equals(target)) {
                acceptEnded(sent.getExchange());
            }
        } else if (event instanceof CamelEvent.ExchangeCompletedEvent completed) {
            requestCompleted(completed.getExchange());
        }
    }

    /** The name of a direct: endpoint ("direct://dispatch" → "dispatch"), null for any other. */
    private static String direct(String uri) {
        if (uri.startsWith("direct://")) {
            return strip(uri.substring("direct://".length()));
        }
        return uri.startsWith("direct:") ? strip(uri.substring("direct:".length())) : null;
    }

    private static String strip(String name) {
        int query = name.indexOf('?');
        return query < 0 ? name : name.substring(0, query);
    }

    private void providerTried(Exchange exchange, String endpointProvider) {
        Trail trail = exchange.getProperty(TRAIL, Trail.class);
        if (trail == null) {
            return;
        }
        // The provider route names itself first thing; a route that never ran is named by its endpoint.
        String provider = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_ID, endpointProvider, String.class);
        String previous = trail.failed;
        if (previous != null && !previous.equals(provider)) {
            meters.counter("relay.provider.failovers", "from", previous, "to", provider).increment();
        }
        trail.failed = exchange.getException() != null ? provider : null;
    }

    private void dispatched(Exchange exchange) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        String provider = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_ID, String.class);
        if (exchange.getException() != null || message == null || message.queuedAt() == null || provider == null
                || exchange.getMessage().getHeader(RelayHeaders.PROVIDER_REPLY) == null) {
            return;
        }
        Duration latency = Duration.between(message.queuedAt(), Instant.now());
        deliveryTimers.computeIfAbsent(message.emailType() + "\n" + provider, key -> Timer.builder("relay.delivery.latency")
                .description("from a message's accept (queued_at) to the provider's confirmation, retries included")
                .tags("type", message.emailType(), "provider", provider)
                .serviceLevelObjectives(DELIVERY_BUCKETS)
                .register(meters)).record(latency.isNegative() ? Duration.ZERO : latency);
    }

    private void acceptEnded(Exchange exchange) {
        Submission submission = exchange.getProperty(AcceptRoutes.SUBMISSION, Submission.class);
        if (submission == null && exchange.getMessage().getBody() instanceof Submission body) {
            submission = body;
        }
        Refusal refusal = ObjectHelper.getException(Refusal.class, exchange.getException());
        if (refusal != null) {
            if (submission != null) {
                rejected(submission.workspaceId(), submission.type().id(), refusal.code(), 1);
                exchange.setProperty(REJECTION_COUNTED, true);
            }
            return;
        }
        if (exchange.getException() != null || !(exchange.getMessage().getBody() instanceof Accepted accepted)
                || accepted.duplicate()) {
            return;
        }
        String ingress = ingress(exchange.getFromRouteId());
        acceptTimers.computeIfAbsent(ingress, key -> Timer.builder("relay.accept.latency")
                .description("from the start of a submission to its durable accept (the 202 / 250)")
                .tags("ingress", ingress)
                .serviceLevelObjectives(ACCEPT_BUCKETS)
                .register(meters)).record(Duration.ofMillis(exchange.getClock().elapsed()));
        long suppressed = accepted.messages().isEmpty()
                ? (accepted.status() == MessageStatus.REJECTED ? 1 : 0)
                : accepted.messages().stream().filter(part -> part.status() == MessageStatus.REJECTED).count();
        if (suppressed > 0 && submission != null) {
            rejected(submission.workspaceId(), submission.type().id(), "suppressed", suppressed);
        }
    }

    /** A REST submission refused before the accept path (its fields): the workspace is its key's. */
    private void requestCompleted(Exchange exchange) {
        if (!"rest-post-message".equals(exchange.getFromRouteId()) || exchange.getProperty(REJECTION_COUNTED) != null) {
            return;
        }
        Refusal refusal = ObjectHelper.getException(Refusal.class, exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        // Set by ingress.rest's rest-submit once the key named the workspace (the answer resets the headers).
        String workspace = exchange.getProperty(RelayHeaders.WORKSPACE, String.class);
        if (refusal != null && workspace != null) {
            rejected(workspace, "unknown", refusal.code(), 1);
        }
    }

    private void rejected(String workspace, String type, String reason, long count) {
        meters.counter("relay.rejected", "workspace", workspace, "type", type, "reason", reason).increment(count);
    }

    private static String ingress(String fromRouteId) {
        if ("rest-post-message".equals(fromRouteId)) {
            return "rest";
        }
        return "smtp-submit".equals(fromRouteId) ? "smtp" : "other";
    }

    private static Duration[] durations(long... millis) {
        Duration[] durations = new Duration[millis.length];
        for (int i = 0; i < millis.length; i++) {
            durations[i] = Duration.ofMillis(millis[i]);
        }
        return durations;
    }
}
