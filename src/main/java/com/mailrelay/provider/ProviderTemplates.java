package com.mailrelay.provider;

import java.util.concurrent.ExecutorService;

import com.mailrelay.config.RelayProperties;
import org.apache.camel.CamelContext;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.springframework.stereotype.Component;

/**
 * What the provider templates need that YAML cannot give them. The templates themselves — one per
 * provider type, {@code smtp} and {@code outbox} — are Kamelets in src/main/resources/templates,
 * loaded before routes/ (routing/TemplateFiles); routes/providers.camel.yaml instantiates them
 * with {@code templatedRoute}, each instance the route {@code direct:provider-<providerId>}.
 *
 * <p>Their circuit breaker's time limiter runs each call on the {@code providerCalls} pool
 * ({@link ProviderCallPool}), bound here in Camel's registry; and their {@code deadlineMillis}
 * defaults to relay.worker.attempt-deadline, which is a duration ("2m") while the breaker and the
 * failure message want milliseconds: given here as the placeholder
 * {@value #DEADLINE_PROPERTY}.
 */
@Component
public class ProviderTemplates implements CamelContextConfiguration {

    /** relay.worker.attempt-deadline in milliseconds, the templates' default deadlineMillis. */
    public static final String DEADLINE_PROPERTY = "relay.provider.attempt-deadline-millis";

    private final String deadlineMillis;

    public ProviderTemplates(RelayProperties properties) {
        this.deadlineMillis = Long.toString(properties.worker().attemptDeadline().toMillis());
    }

    @Override
    public void beforeApplicationStart(CamelContext camel) {
        if (camel.getRegistry().lookupByName(ProviderCallPool.BEAN) == null) {
            camel.getRegistry().bind(ProviderCallPool.BEAN, ExecutorService.class, ProviderCallPool.create());
        }
        camel.getPropertiesComponent().addInitialProperty(DEADLINE_PROPERTY, deadlineMillis);
    }

    @Override
    public void afterApplicationStart(CamelContext camel) {
    }
}
