package com.mailrelay.events;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * {@code webhook-poll} hands each workspace's oldest pending events to {@link WebhookOutbox};
 * {@code webhook-post} is the HTTP call itself (any non-2xx answer is a failure to retry).
 */
@Component
public class WebhookRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("scheduler:webhooks?delay={{relay.webhooks.poll-delay}}")
                .routeId("webhook-poll")
                .autoStartup("{{relay.webhooks.enabled}}")
                .bean("webhookOutbox", "deliverDue");

        from("direct:webhook-post").routeId("webhook-post")
                .setHeader(Exchange.HTTP_METHOD, constant("POST"))
                .setHeader(Exchange.CONTENT_TYPE, constant("application/x-www-form-urlencoded"))
                .to("http:webhook?throwExceptionOnFailure=true&followRedirects=false"
                        + "&connectTimeout={{relay.webhooks.timeout-millis}}&responseTimeout={{relay.webhooks.timeout-millis}}")
                .id("webhook-http");
    }
}
