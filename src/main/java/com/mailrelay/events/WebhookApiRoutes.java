package com.mailrelay.events;

import java.util.Map;

import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.api.RestResponses;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/** {@code GET /api/v1/webhooks/failed}: the caller's events whose webhook delivery was given up. */
@Component
public class WebhookApiRoutes extends RouteBuilder {

    private final WebhookOutbox outbox;
    private final RestResponses responses;

    public WebhookApiRoutes(WebhookOutbox outbox, RestResponses responses) {
        this.outbox = outbox;
        this.responses = responses;
    }

    @Override
    public void configure() {
        rest("/api/v1/webhooks").get("/failed").id("rest-failed-webhooks").to("direct:webhooks-failed");

        from("direct:webhooks-failed").routeId("webhooks-failed").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .process(e -> responses.respond(e, 200, Map.of("events",
                        outbox.failed(e.getMessage().getHeader(RelayHeaders.WORKSPACE, String.class)))));
    }
}
