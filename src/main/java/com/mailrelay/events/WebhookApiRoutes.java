package com.mailrelay.events;

import java.util.Map;

import com.mailrelay.ingress.rest.RestErrorConfiguration;
import com.mailrelay.ingress.rest.RestResponses;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/** {@code GET /api/v1/webhooks/failed}: the caller's events whose webhook delivery was given up. */
@Component
public class WebhookApiRoutes extends RouteBuilder {

    private final Workspaces workspaces;
    private final WebhookOutbox outbox;
    private final RestResponses responses;

    public WebhookApiRoutes(Workspaces workspaces, WebhookOutbox outbox, RestResponses responses) {
        this.workspaces = workspaces;
        this.outbox = outbox;
        this.responses = responses;
    }

    @Override
    public void configure() {
        rest("/api/v1/webhooks").get("/failed").id("rest-failed-webhooks").to("direct:webhooks-failed");

        from("direct:webhooks-failed").routeId("webhooks-failed").routeConfigurationId(RestErrorConfiguration.ID)
                .process(e -> {
                    String workspace = workspaces.authenticate(e.getMessage().getHeader("Authorization", String.class));
                    responses.respond(e, 200, Map.of("events", outbox.failed(workspace)));
                });
    }
}
