package com.mailrelay.recipients;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.store.Suppressions;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
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
                .get().id("rest-list-recipients").produces("application/json")
                    .description("The recipient list of the caller's workspace (suppressions and names), by address")
                    .param().name("status").type(RestParamType.query).required(false).dataType("string")
                        .description("only entries of this status: ACTIVE, BOUNCED, UNSUBSCRIBED or COMPLAINED")
                        .endParam()
                    .outType(RecipientSchemas.RecipientList.class)
                    .to("direct:recipients-list")
                .get("/{email}").id("rest-get-recipient").produces("application/json")
                    .description("One address's entry on the caller's workspace's list")
                    .param().name("email").type(RestParamType.path).required(true).dataType("string")
                        .description("the address (percent-encoded: bob%40example.org)").endParam()
                    .outType(Suppressions.Recipient.class)
                    .responseMessage().code(404).message("the address is not on the list").endResponseMessage()
                    .to("direct:recipients-get")
                .put("/{email}").id("rest-put-recipient")
                    .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                    .description("Suppresses an address, lifts its suppression (ACTIVE) or sets its names")
                    .param().name("email").type(RestParamType.path).required(true).dataType("string")
                        .description("the address (percent-encoded: bob%40example.org)").endParam()
                    .type(RecipientSchemas.RecipientUpdate.class)
                    .param().name("body").type(RestParamType.body).required(true)
                        .description("the new status and/or names").endParam()
                    .outType(Suppressions.Recipient.class)
                    .responseMessage().code(400).message("the address, the status or a name is invalid")
                        .endResponseMessage()
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
