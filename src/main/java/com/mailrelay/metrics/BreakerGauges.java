package com.mailrelay.metrics;

import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Locale;

import com.mailrelay.provider.ProviderBreakers;
import com.mailrelay.providers.ProviderInstances;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import org.springframework.stereotype.Component;

/**
 * {@code relay_provider_breaker_state{provider, state}}: 1 for the state each running provider's
 * circuit breaker is in, 0 for the others (closed, open, half_open; a rarer state such as
 * forced_open appears while it is current), so that {@code relay_provider_breaker_state{state="open"} == 1}
 * is an alert and a dashboard can stack the states. Refreshed with the queue's gauges (the
 * breakers live in memory: this is cheap, but it walks the running routes, which a scrape should
 * not). Transitions are counted as they happen, by provider.ProviderBreakers
 * ({@code relay_provider_breaker_transitions_total{provider, from, to}}).
 */
@Component("breakerGauges")
public class BreakerGauges {

    static final List<String> STATES = List.of("CLOSED", "OPEN", "HALF_OPEN");

    private final ProviderInstances instances;
    private final ProviderBreakers breakers;
    private final MultiGauge states;

    public BreakerGauges(ProviderInstances instances, ProviderBreakers breakers, MeterRegistry meters) {
        this.instances = instances;
        this.breakers = breakers;
        this.states = MultiGauge.builder("relay.provider.breaker.state")
                .description("1 for the state each provider's circuit breaker is in, 0 for the others")
                .register(meters);
    }

    public void refresh() {
        List<String> providers;
        try {
            providers = instances.ids();
        } catch (ConcurrentModificationException e) {
            return;     // route files being loaded this moment: the next refresh reads them
        }
        List<MultiGauge.Row<?>> rows = new ArrayList<>();
        for (String provider : providers) {
            String current = breakers.state(provider).orElse(null);
            if (current == null) {
                continue;
            }
            for (String state : STATES) {
                rows.add(row(provider, state, state.equals(current) ? 1 : 0));
            }
            if (!STATES.contains(current)) {
                rows.add(row(provider, current, 1));
            }
        }
        states.register(rows, true);
    }

    private static MultiGauge.Row<?> row(String provider, String state, int value) {
        return MultiGauge.Row.of(Tags.of("provider", provider, "state", state.toLowerCase(Locale.ROOT)), value);
    }
}
