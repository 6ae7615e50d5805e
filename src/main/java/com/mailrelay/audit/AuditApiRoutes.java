package com.mailrelay.audit;

import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/** {@code GET /api/v1/audit}: who changed what, when and from where ({@link AuditEntries}). */
@Component
public class AuditApiRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/audit")
                .get().id("rest-list-audit").produces("application/json")
                    .description("The audit log, newest first; an admin key reads every entry, a workspace key its own")
                    .to("direct:audit-list");

        from("direct:audit-list").routeId("audit-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("auditEntries", "list")
                .bean("restResponses", "reply(*, 200)");
    }
}
