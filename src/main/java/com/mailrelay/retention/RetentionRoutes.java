package com.mailrelay.retention;

import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * Retention: the timer route {@code retention-run} (every relay.retention.interval, the first one
 * interval after start), the dry run {@code GET /api/v1/retention} and {@code POST
 * /api/v1/retention/run} (admin, audited as retention.run with its counts).
 */
@Component
public class RetentionRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/retention")
                .get().id("rest-retention-preview").produces("application/json")
                    .description("Dry run: what the next retention run would drop (raw MIME, webhook waits) and"
                            + " delete (messages, events, attempt logs, audit entries), per workspace; nothing is"
                            + " changed. An admin key sees every workspace, a workspace key its own")
                    .param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                        .description("only this workspace (a workspace key: its own only)").endParam()
                    .outType(RetentionReport.class)
                    .responseMessage().code(200).message("the counts of the dry run").endResponseMessage()
                    .responseMessage().code(400).message("an invalid workspace parameter").endResponseMessage()
                    .responseMessage().code(401).message("no or an unknown API key").endResponseMessage()
                    .responseMessage().code(403).message("a workspace key asked for another workspace")
                        .endResponseMessage()
                    .to("direct:retention-preview")
                .post("/run").id("rest-retention-run").produces("application/json")
                    .description("Runs retention now, in batches, and answers what it dropped and deleted (admin key)")
                    .param().name("workspace").type(RestParamType.query).dataType("string").required(false)
                        .description("only this workspace; absent: every workspace and the global logs").endParam()
                    .outType(RetentionReport.class)
                    .responseMessage().code(200).message("what the run did").endResponseMessage()
                    .responseMessage().code(400).message("an invalid workspace parameter").endResponseMessage()
                    .responseMessage().code(401).message("no or an unknown API key").endResponseMessage()
                    .responseMessage().code(403).message("a workspace key: running retention needs the admin key")
                        .endResponseMessage()
                    .to("direct:retention-run-now");

        from("direct:retention-preview").routeId("retention-preview").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("retentionRequests", "preview")
                .bean("restResponses", "reply(*, 200)");

        from("direct:retention-run-now").routeId("retention-run-now").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean("retentionRequests", "run")
                .bean("auditLog", "record(*, 'retention.run', null)")
                .bean("restResponses", "reply(*, 200)");

        // One instance at a time is enough, but two at once break nothing (see Retention).
        from("scheduler:retention?delay={{relay.retention.interval}}&initialDelay={{relay.retention.interval}}")
                .routeId("retention-run")
                .bean("retention", "scheduled");
    }
}
