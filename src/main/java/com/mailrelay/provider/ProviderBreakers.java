package com.mailrelay.provider;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The circuit breakers of the provider routes. Each provider template names its breaker
 * {@code breaker-<providerId>}; this finds it among the running routes (a reloaded route file
 * brings a new one), so that a provider configuration fault can open it at once instead of
 * waiting for its failure rate.
 */
@Component("providerBreakers")
public class ProviderBreakers {

    private static final Logger log = LoggerFactory.getLogger(ProviderBreakers.class);

    private final CamelContext camel;
    private final MeterRegistry meters;
    /** The fault that last opened each provider's breaker; forgotten once the breaker closes. */
    private final Map<String, DeliveryException> faults = new ConcurrentHashMap<>();

    public ProviderBreakers(CamelContext camel, MeterRegistry meters) {
        this.camel = camel;
        this.meters = meters;
    }

    /**
     * The breaker of a provider route, if one is running. A route made from a template has its node
     * ids prefixed with the route's node prefix ("route-12breaker-ses"), so the id is looked up
     * with each route's prefix too.
     */
    public Optional<ResilienceProcessor> breaker(String providerId) {
        String id = breakerId(providerId);
        ResilienceProcessor plain = camel.getProcessor(id, ResilienceProcessor.class);
        if (plain != null) {
            return Optional.of(plain);
        }
        for (Route route : camel.getRoutes()) {
            String prefix = route.getNodePrefixId();
            if (prefix != null && !prefix.isEmpty()
                    && camel.getProcessor(prefix + id) instanceof ResilienceProcessor breaker) {
                return Optional.of(breaker);
            }
        }
        return Optional.empty();
    }

    /**
     * The configuration fault that opened this provider's breaker, while the breaker is not closed
     * again: a call the breaker refuses then waits for the provider's set-up to be fixed, so it does
     * not use an attempt either (ProviderFailures.circuitOpen).
     */
    public Optional<DeliveryException> openedByFault(String providerId) {
        DeliveryException fault = faults.get(providerId);
        if (fault == null) {
            return Optional.empty();
        }
        boolean closed = breaker(providerId).map(b -> "CLOSED".equals(b.getCircuitBreakerState())).orElse(true);
        if (closed) {
            faults.remove(providerId, fault);
            return Optional.empty();
        }
        return Optional.of(fault);
    }

    /** How long a breaker stays open before a trial call (its waitDurationInOpenState); null without one. */
    public Duration openFor(Optional<ResilienceProcessor> breaker) {
        return breaker.map(b -> Duration.ofSeconds(b.getCircuitBreakerWaitDurationInOpenState())).orElse(null);
    }

    public static String breakerId(String providerId) {
        return "breaker-" + providerId;
    }

    /**
     * The provider refused the relay's own set-up (credentials, account): open its breaker for its
     * wait in open state, count it on relay_provider_configuration_faults_total{provider} and say
     * why in the log, then pass the failure on so that the chain fails over.
     */
    public void configurationFault(Exchange exchange, String providerId) {
        Throwable caught = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        DeliveryException failure = ProviderFailures.classify(providerId, caught);
        Optional<ResilienceProcessor> breaker = breaker(providerId);
        breaker.ifPresent(ResilienceProcessor::transitionToOpenState);
        faults.put(providerId, failure);
        meters.counter("relay.provider.configuration.faults", "provider", providerId).increment();
        log.error("provider {} refused the relay's configuration (breaker opened; messages fail over or wait "
                + "without using attempts): {}", providerId, failure.reply());
        // A message with nowhere to fail over to waits until the breaker lets a trial call through.
        throw new ProviderConfigurationException(providerId, failure.code(), failure.reply(), openFor(breaker), caught);
    }
}
