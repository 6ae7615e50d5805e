package com.mailrelay.recipients;

import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.store.Suppressions;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * A workspace's recipient list under the workspace admin API, for the admin key as well as the
 * workspace's own: {@code GET /api/v1/workspaces/{id}/recipients?status=&q=&cursor=&limit=} (a page
 * by address, searched and filtered) and {@code PUT /api/v1/workspaces/{id}/recipients/{email}}
 * (the body of {@code PUT /api/v1/recipients/{email}}; ACTIVE lifts a suppression), audited as
 * {@code recipient.update}. {@link WorkspaceRecipients} and {@link RecipientRequests} compute.
 */
@Component
public class WorkspaceRecipientRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/workspaces").description("Workspaces (tenants), their API keys and SMTP users")
                .get("/{id}/recipients").id("rest-list-workspace-recipients").produces("application/json")
                    .description("A workspace's recipient list (suppressions and names) by address, a page at a"
                            + " time; a workspace key reads its own")
                    .param().name("id").type(RestParamType.path).dataType("string").description("the workspace's id")
                        .endParam()
                    .param().name("status").type(RestParamType.query).required(false).dataType("string")
                        .description("only entries of this status: ACTIVE, BOUNCED, UNSUBSCRIBED, COMPLAINED, or"
                                + " SUPPRESSED (any but ACTIVE)").endParam()
                    .param().name("q").type(RestParamType.query).required(false).dataType("string")
                        .description("only addresses containing this text (any case)").endParam()
                    .param().name("cursor").type(RestParamType.query).required(false).dataType("string")
                        .description("next_cursor of the previous page").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer")
                        .description("entries per page, 1 to 1000 (default 50)").endParam()
                    .outType(WorkspaceRecipients.RecipientPage.class)
                    .responseMessage().code(400).message("a query parameter is invalid").endResponseMessage()
                    .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                    .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                    .responseMessage().code(404).message("no such workspace").endResponseMessage()
                    .to("direct:workspace-recipients-list")
                .put("/{id}/recipients/{email}").id("rest-put-workspace-recipient")
                    .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                    .description("Suppresses an address of the workspace, lifts its suppression (ACTIVE) or sets its"
                            + " names; a workspace key changes its own")
                    .param().name("id").type(RestParamType.path).dataType("string").description("the workspace's id")
                        .endParam()
                    .param().name("email").type(RestParamType.path).required(true).dataType("string")
                        .description("the address (percent-encoded: bob%40example.org)").endParam()
                    .type(RecipientSchemas.RecipientUpdate.class)
                    .param().name("body").type(RestParamType.body).required(true)
                        .description("the new status and/or names").endParam()
                    .outType(Suppressions.Recipient.class)
                    .responseMessage().code(400).message("the address, the status or a name is invalid")
                        .endResponseMessage()
                    .responseMessage().code(401).message("no or an unknown key").endResponseMessage()
                    .responseMessage().code(403).message("another workspace's key").endResponseMessage()
                    .responseMessage().code(404).message("no such workspace").endResponseMessage()
                    .to("direct:workspace-recipients-put");

        from("direct:workspace-recipients-list").routeId("workspace-recipients-list")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .setHeader(RelayHeaders.WORKSPACE, method("workspaceRecipients", "workspace"))
                .bean("workspaceRecipients", "list")
                .bean("restResponses", "reply(*, 200)");

        from("direct:workspace-recipients-put").routeId("workspace-recipients-put")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .setHeader(RelayHeaders.WORKSPACE, method("workspaceRecipients", "workspace"))
                .bean("recipientRequests", "put")
                .bean("workspaceRecipients", "audited")
                .bean("auditLog", "record(*, 'recipient.update', null)")
                .bean("restResponses", "reply(*, 200)");
    }
}
