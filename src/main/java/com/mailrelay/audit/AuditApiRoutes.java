package com.mailrelay.audit;

import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/** {@code GET /api/v1/audit}: who changed what, when and from where ({@link AuditEntries}). */
@Component
public class AuditApiRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/audit")
                .get().id("rest-list-audit").produces("application/json")
                    .description("The audit log, newest first; an admin key reads every entry, a workspace key its own")
                    .param().name("workspace").type(RestParamType.query).required(false).dataType("string")
                        .description("entries of this workspace (a workspace key may name only its own)").endParam()
                    .param().name("actor").type(RestParamType.query).required(false).dataType("string")
                        .description("entries of this actor: admin, workspace:<id>, workspace:<id>/<key name> or relay").endParam()
                    .param().name("action").type(RestParamType.query).required(false).dataType("string")
                        .description("entries of this action, e.g. routes.reload").endParam()
                    .param().name("since").type(RestParamType.query).required(false).dataType("string")
                        .dataFormat("date-time").description("entries at or after this time (RFC 3339)").endParam()
                    .param().name("until").type(RestParamType.query).required(false).dataType("string")
                        .dataFormat("date-time").description("entries before this time (RFC 3339)").endParam()
                    .param().name("cursor").type(RestParamType.query).required(false).dataType("string")
                        .description("the next_cursor of the previous page").endParam()
                    .param().name("limit").type(RestParamType.query).required(false).dataType("integer")
                        .dataFormat("int32").description("entries per page, 1 to 1000 (default 100)").endParam()
                    .outType(AuditEntries.Page.class)
                    .responseMessage().code(400).message("a parameter is invalid, each named in errors").endResponseMessage()
                    .responseMessage().code(403).message("a workspace key asked for another workspace").endResponseMessage()
                    .to("direct:audit-list");

        from("direct:audit-list").routeId("audit-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("auditEntries", "list")
                .bean("restResponses", "reply(*, 200)");
    }
}
