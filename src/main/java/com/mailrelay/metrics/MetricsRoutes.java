package com.mailrelay.metrics;

import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * {@code metrics-refresh}: reads the gauges that cost a query (queue depth, oldest due message,
 * webhook lag) and the breaker states every {@code relay.metrics.refresh-interval}, so that a
 * scrape only reads memory. Each instance reads the same shared numbers; dashboards take
 * {@code max} over instances for the queue gauges, not {@code sum}.
 */
@Component
public class MetricsRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("scheduler:metrics-refresh?delay={{relay.metrics.refresh-interval:15s}}&initialDelay=0")
                .routeId("metrics-refresh")
                .bean("queueGauges", "refresh")
                .bean("breakerGauges", "refresh");
    }
}
