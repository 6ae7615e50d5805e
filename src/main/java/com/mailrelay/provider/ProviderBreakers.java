package com.mailrelay.provider;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.Deque;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.Route;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.apache.camel.component.resilience4j.ResilienceProcessor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * The circuit breakers of the provider routes. Each provider template names its breaker
 * {@code breaker-<providerId>}; this finds it among the running routes (a reloaded route file
 * brings a new one), so that a provider configuration fault can open it at once instead of
 * waiting for its failure rate, and tells its state and its last {@value #KEPT_TRANSITIONS}
 * state transitions (a resilience4j event listener on each breaker, attached when its route starts
 * or at the latest when it is first asked about; the history survives a reloaded route's new breaker),
 * each counted on relay_provider_breaker_transitions_total{provider, from, to}.
 */
@Component("providerBreakers")
public class ProviderBreakers {

    private static final Logger log = LoggerFactory.getLogger(ProviderBreakers.class);

    /** Transitions kept per provider, the newest last. */
    static final int KEPT_TRANSITIONS = 20;

    /** One change of a breaker's state: when, from what to what. */
    public record Transition(Instant at, String from, String to) {
    }

    private final CamelContext camel;
    private final MeterRegistry meters;
    private final Clock clock;
    private final Map<String, Deque<Transition>> transitions = new ConcurrentHashMap<>();
    /** The fault that last opened each provider's breaker; forgotten once the breaker closes. */
    private final Map<String, DeliveryException> faults = new ConcurrentHashMap<>();
    /** The breakers listened to already, weakly: a removed route's breaker goes away with it. */
    private final Set<CircuitBreaker> watched = Collections.synchronizedSet(
            Collections.newSetFromMap(new WeakHashMap<>()));

    public ProviderBreakers(CamelContext camel, MeterRegistry meters, Clock clock) {
        this.camel = camel;
        this.meters = meters;
        this.clock = clock;
    }

    /** The breaker of a provider route, if one is running (listened to from now on). */
    public Optional<ResilienceProcessor> breaker(String providerId) {
        ResilienceProcessor processor = find(providerId);
        if (processor != null) {
            watch(providerId, processor);
        }
        return Optional.ofNullable(processor);
    }

    /**
     * The breaker's node id is {@code breaker-<providerId>} after the node prefix Camel gives each
     * route made from a template (so camel.getProcessor(id) does not find it): looked up in the
     * provider's route (provider-<providerId>) first, then in every route.
     */
    private ResilienceProcessor find(String providerId) {
        Route own = camel.getRoute("provider-" + providerId);
        ResilienceProcessor found = own == null ? null : find(own, providerId);
        for (Iterator<Route> routes = camel.getRoutes().iterator(); found == null && routes.hasNext(); ) {
            found = find(routes.next(), providerId);
        }
        return found;
    }

    private static ResilienceProcessor find(Route route, String providerId) {
        String prefix = route.getNodePrefixId() == null ? "" : route.getNodePrefixId();
        for (Processor processor : route.filter(prefix + breakerId(providerId))) {
            if (processor instanceof ResilienceProcessor resilience) {
                return resilience;
            }
        }
        return null;
    }

    /** Starts keeping the transitions of a provider's breaker (once per breaker: a reloaded route has a new one). */
    public void watch(String providerId) {
        breaker(providerId);
    }

    private void watch(String providerId, ResilienceProcessor processor) {
        CircuitBreaker breaker = processor.getCircuitBreaker();
        if (breaker == null || !watched.add(breaker)) {
            return;
        }
        breaker.getEventPublisher().onStateTransition(event -> {
            CircuitBreaker.StateTransition change = event.getStateTransition();
            Deque<Transition> kept = transitions.computeIfAbsent(providerId, id -> new ArrayDeque<>());
            synchronized (kept) {
                kept.addLast(new Transition(clock.instant(), change.getFromState().name(), change.getToState().name()));
                while (kept.size() > KEPT_TRANSITIONS) {
                    kept.removeFirst();
                }
            }
            log.info("circuit breaker of provider {}: {} -> {}", providerId, change.getFromState(),
                    change.getToState());
            meters.counter("relay.provider.breaker.transitions", "provider", providerId,
                    "from", change.getFromState().name().toLowerCase(java.util.Locale.ROOT),
                    "to", change.getToState().name().toLowerCase(java.util.Locale.ROOT)).increment();
        });
    }

    /** The breaker's state (CLOSED, OPEN, HALF_OPEN, FORCED_OPEN...), or empty if no route of the provider runs. */
    public Optional<String> state(String providerId) {
        return breaker(providerId).map(ResilienceProcessor::getCircuitBreakerState);
    }

    /** The last state transitions seen, oldest first. */
    public List<Transition> transitions(String providerId) {
        Deque<Transition> kept = transitions.get(providerId);
        if (kept == null) {
            return List.of();
        }
        synchronized (kept) {
            return List.copyOf(kept);
        }
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
        ProviderConfigurationException fault = new ProviderConfigurationException(providerId, failure.code(),
                failure.reply(), openFor(breaker), caught);
        ChainWaits.record(exchange, fault);
        throw fault;
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

    /** How long a breaker stays open before a trial call (its waitDurationInOpenState, in seconds); null without one. */
    public Duration openFor(Optional<ResilienceProcessor> breaker) {
        return breaker.map(b -> Duration.ofSeconds(b.getCircuitBreakerWaitDurationInOpenState())).orElse(null);
    }
}
