package com.mailrelay.delivery;

import org.apache.camel.builder.RouteConfigurationBuilder;
import org.springframework.stereotype.Component;

/**
 * Failure handling for delivery, declared once: a retryable failure (transient, attempts and age
 * left) is deferred with durable backoff; anything else — a permanent refusal, or retries
 * exhausted — goes to the dead-letter channel and ends FAILED with the provider's reply.
 */
@Component
public class DeliveryRouteConfiguration extends RouteConfigurationBuilder {

    public static final String ID = "delivery-outcomes";

    @Override
    public void configuration() {
        // Every route without a configuration of its own (dispatch, chains, providers, including
        // those in routes/) passes failures straight back to its caller: the failover load balancer
        // must see them to move on, and deliver must see them to record the outcome.
        routeConfiguration().errorHandler(noErrorHandler());

        routeConfiguration(ID)
                .errorHandler(deadLetterChannel("direct:dead-letter")
                        .maximumRedeliveries(0)          // retries are durable, not in-memory redeliveries
                        .logExhausted(false))
                .onException(Exception.class)
                    .onWhen(method("deliveryOutcomes", "retryable"))
                    .handled(true)
                    .to("direct:defer")
                .end();
    }
}
