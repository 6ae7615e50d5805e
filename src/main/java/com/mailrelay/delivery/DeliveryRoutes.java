package com.mailrelay.delivery;

import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * Delivery, once for both queues: {@code deliver} takes one claimed message — from the database
 * queue's workers ({@code queue-work}) or from the Kafka consumer ({@code queue-consume}) — puts
 * it on the exchange the way dispatch and provider routes read it, runs it through
 * {@code direct:dispatch} (routes/), and records that it was sent. A failure is handled once, by
 * the {@code delivery-outcomes} route configuration: retryable → {@code defer}, anything else →
 * the dead-letter channel {@code dead-letter}. Each outcome is committed with its events; the
 * wireTap after it (the workspace is in the relayWorkspace header) only hands them on at once
 * ({@code events-written}), the event pollers being the backstop.
 */
@Component
public class DeliveryRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("direct:deliver").routeId("deliver")
                .routeConfigurationId(DeliveryRouteConfiguration.ID)
                .bean(DeliveryHeaders.class, "prepare")
                .to("direct:dispatch")
                .bean("deliveryOutcomes", "sent")
                .wireTap("direct:events-written");

        from("direct:defer").routeId("defer")
                .bean("deliveryOutcomes", "deferred")
                .wireTap("direct:events-written");

        from("direct:dead-letter").routeId("dead-letter")
                .bean("deliveryOutcomes", "deadLettered")
                .wireTap("direct:events-written");
    }
}
