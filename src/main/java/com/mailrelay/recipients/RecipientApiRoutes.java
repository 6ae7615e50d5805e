package com.mailrelay.recipients;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * The suppression list of the caller's workspace: {@code GET /api/v1/recipients[?status=]},
 * {@code GET /api/v1/recipients/{email}}, {@code PUT /api/v1/recipients/{email}} with
 * {@code {"status": "ACTIVE" | "BOUNCED" | "UNSUBSCRIBED" | "COMPLAINED", "reason": "...",
 * "first_name": "...", "last_name": "..."}} (status may be left out when names are given).
 * {@link RecipientRequests} computes; these routes decide what is answered.
 */
@Component
public class RecipientApiRoutes extends RouteBuilder {

    private static final ApiError NOT_ON_LIST =
            new ApiError("not_found", "this address is not on the workspace's recipient list");

    @Override
    public void configure() {
        rest("/api/v1/recipients")
                .get().id("rest-list-recipients").produces("application/json").to("direct:recipients-list")
                .get("/{email}").id("rest-get-recipient").produces("application/json").to("direct:recipients-get")
                .put("/{email}").id("rest-put-recipient")
                    .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                    .to("direct:recipients-put");

        from("direct:recipients-list").routeId("recipients-list").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .bean("recipientRequests", "list")
                .bean("restResponses", "listing(*, recipients)");

        from("direct:recipients-get").routeId("recipients-get").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .bean("recipientRequests", "find")
                .choice()
                    .when(body().isNull())
                        .setBody(constant(NOT_ON_LIST))
                        .bean("restResponses", "reply(*, 404)")
                    .otherwise()
                        .bean("restResponses", "reply(*, 200)")
                .end();

        from("direct:recipients-put").routeId("recipients-put").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .bean("recipientRequests", "put")
                .bean("restResponses", "reply(*, 200)");
    }
}
