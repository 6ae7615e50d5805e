package com.mailrelay.queuectl;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/queue/summary} ({@link QueueSummary}): the queue now by workspace × email type,
 * with today's sent and failed and the pauses — what the console's Queue page shows.
 */
@Component
public class QueueSummaryRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/queue")
                .get("/summary").id("rest-queue-summary").produces("application/json")
                    .description("The queue now by workspace and email type: queued, due (claimable now), held by a"
                            + " pause, sending, deferred; sent and failed since the start of the UTC day; the pauses"
                            + " covering each workspace. A workspace key sees its own, the admin key every workspace")
                    .param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                        .description("One workspace (an admin key; a workspace key sees its own only)").endParam()
                    .outType(QueueSummary.SummaryView.class)
                    .responseMessage().code(400).message("A parameter is invalid (named)").responseModel(ApiError.class)
                    .endResponseMessage()
                    .responseMessage().code(401).message("No valid API key").responseModel(ApiError.class)
                    .endResponseMessage()
                    .responseMessage().code(403).message("A workspace key asked for another workspace")
                    .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:queue-summary");

        from("direct:queue-summary").routeId("queue-summary").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("queueSummary", "summary")
                .bean("restResponses", "reply(*, 200)");
    }
}
