package com.mailrelay.providers;

import java.time.Clock;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.provider.DeliveryException;
import com.mailrelay.provider.ProviderBreakers;
import com.mailrelay.provider.ProviderFailures;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.support.EventNotifierSupport;
import org.apache.camel.support.service.ServiceHelper;
import org.springframework.stereotype.Component;

/**
 * What each provider last did, as Camel reports it: every call of a provider route
 * ({@code direct:provider-<id>}, from a chain or from the test endpoint) ends in an
 * ExchangeSentEvent, with the provider's reply set or the failure on the exchange. Keeps the last
 * success (time and reply) and the last error (time, classified code and reply) per provider.
 * When a provider route starts (a reloaded route brings a new circuit breaker), its breaker is
 * listened to at once, so that none of its transitions is missed.
 */
@Component
public class ProviderActivity extends EventNotifierSupport {

    private static final String PROVIDER_ENDPOINT = "direct://provider-";

    /** One call's outcome; {@code code} is the provider's reply code (0 when it gave none). */
    public record Outcome(Instant at, int code, String reply) {
    }

    private final ProviderBreakers breakers;
    private final Clock clock;
    private final Map<String, Outcome> lastSuccess = new ConcurrentHashMap<>();
    private final Map<String, Outcome> lastError = new ConcurrentHashMap<>();

    public ProviderActivity(CamelContext camel, ProviderBreakers breakers, Clock clock) {
        this.breakers = breakers;
        this.clock = clock;
        // camel-spring-boot does not add EventNotifier beans to the context by itself.
        ServiceHelper.startService(this);
        camel.getManagementStrategy().addEventNotifier(this);
        setIgnoreCamelContextEvents(true);
        setIgnoreCamelContextInitEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeCompletedEvent(true);
        setIgnoreExchangeFailedEvents(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
        setIgnoreStepEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        // The sending event must be taken too: Camel reports a send's end only if someone took its start.
        return event instanceof CamelEvent.ExchangeSendingEvent sending
                        && sending.getEndpoint().getEndpointUri().startsWith(PROVIDER_ENDPOINT)
                || event instanceof CamelEvent.ExchangeSentEvent sent
                        && sent.getEndpoint().getEndpointUri().startsWith(PROVIDER_ENDPOINT)
                || event instanceof CamelEvent.RouteStartedEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof CamelEvent.RouteStartedEvent started) {
            Route route = started.getRoute();
            // Provider routes are named provider-<providerId> (the templatedRoute's routeId).
            if (route.getRouteId().startsWith("provider-")) {
                breakers.watch(route.getRouteId().substring("provider-".length()));
            }
            return;
        }
        if (!(event instanceof CamelEvent.ExchangeSentEvent sent)) {
            return;
        }
        String providerId = sent.getEndpoint().getEndpointUri().substring(PROVIDER_ENDPOINT.length());
        int query = providerId.indexOf('?');
        if (query >= 0) {
            providerId = providerId.substring(0, query);
        }
        record(providerId, sent.getExchange());
    }

    private void record(String providerId, Exchange exchange) {
        // A failure the provider route handled itself (a partial SMTP delivery) is a delivery, not an error.
        Throwable failure = exchange.getException();
        if (failure == null) {
            String reply = exchange.getMessage().getHeader(RelayHeaders.PROVIDER_REPLY, String.class);
            lastSuccess.put(providerId, new Outcome(clock.instant(), 0, reply));
        } else {
            DeliveryException classified = ProviderFailures.classify(providerId, failure);
            lastError.put(providerId, new Outcome(clock.instant(), classified.code(), classified.reply()));
        }
    }

    public Optional<Outcome> lastSuccess(String providerId) {
        return Optional.ofNullable(lastSuccess.get(providerId));
    }

    public Optional<Outcome> lastError(String providerId) {
        return Optional.ofNullable(lastError.get(providerId));
    }
}
