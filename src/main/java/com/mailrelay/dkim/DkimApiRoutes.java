package com.mailrelay.dkim;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/workspaces/{id}/dkim} (an admin key, or the workspace's own key): the DNS
 * records that publish the workspace's DKIM public keys. {@link DkimRecords} computes; this
 * route decides what is answered.
 */
@Component
public class DkimApiRoutes extends RouteBuilder {

    private static final ApiError UNKNOWN_WORKSPACE = new ApiError("not_found", "no workspace has this id");

    @Override
    public void configure() {
        rest("/api/v1/workspaces")
                .get("/{id}/dkim").id("rest-get-workspace-dkim").produces("application/json")
                    .description("The DNS TXT records that publish the workspace's DKIM public keys (an admin key, "
                            + "or the workspace's own key)")
                    .param().name("id").type(RestParamType.path).required(true).dataType("string")
                        .description("the workspace's id").endParam()
                    .outType(DkimRecords.View.class)
                    .responseMessage().code(403).message("a workspace key asked for another workspace").endResponseMessage()
                    .responseMessage().code(404).message("no workspace has this id").endResponseMessage()
                    .to("direct:workspace-dkim");

        from("direct:workspace-dkim").routeId("workspace-dkim").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("dkimRecords", "authorize")
                .bean("dkimRecords", "records")
                .choice()
                    .when(body().isNull())
                        .setBody(constant(UNKNOWN_WORKSPACE))
                        .bean("restResponses", "reply(*, 404)")
                    .otherwise()
                        .bean("restResponses", "reply(*, 200)")
                .end();
    }
}
