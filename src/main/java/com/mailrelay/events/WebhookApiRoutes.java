package com.mailrelay.events;

import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/** {@code GET /api/v1/webhooks/failed}: the caller's events whose webhook delivery was given up. */
@Component
public class WebhookApiRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/webhooks").get("/failed").id("rest-failed-webhooks").produces("application/json")
                .description("The events of the caller's workspace whose webhook delivery was given up")
                .outType(WebhookSchemas.FailedEvents.class)
                .to("direct:webhooks-failed");

        from("direct:webhooks-failed").routeId("webhooks-failed").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .bean("webhookOutbox", "failed(${header." + RelayHeaders.WORKSPACE + "})")
                .bean("restResponses", "listing(*, events)");
    }
}
