package com.mailrelay.history;

import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * "Why did it fail?" over the API: a message's delivery attempts ({@code history-message-attempts}),
 * the webhook delivery log ({@code history-webhook-attempts}), and failed webhooks: listed
 * ({@code webhooks-failed}), sent back to the outbox ({@code history-webhook-replay}) or discarded
 * ({@code history-webhook-discard}). Admin key
 * or a workspace key, which sees and changes only its own workspace. A replay wakes the webhook
 * outbox for each workspace it touched ({@code direct:events-written}), as a delivery does.
 */
@Component
public class HistoryApiRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/messages")
                .get("/{id}/attempts").id("rest-message-attempts").produces("application/json")
                    .description("The message's delivery attempts, oldest first: each provider tried, its outcome,"
                            + " reply code and reply (SMTP reply lines, or the HTTP status and the start of the body)"
                            + " and the time taken. Admin key, or the message's workspace key")
                    .param().name("id").type(RestParamType.path).description("the message id").dataType("string")
                        .endParam()
                    .param().name("cursor").type(RestParamType.query).required(false)
                        .description("the previous page's next_cursor").dataType("string").endParam()
                    .param().name("limit").type(RestParamType.query).required(false)
                        .description("rows per page, 1 to 1000 (default 100)").dataType("integer").endParam()
                    .outType(DeliveryHistory.AttemptPage.class)
                    .responseMessage().code(400).message("an invalid cursor or limit").endResponseMessage()
                    .responseMessage().code(401).message("no valid API key").endResponseMessage()
                    .responseMessage().code(404).message("no such message the key may see").endResponseMessage()
                    .to("direct:history-message-attempts");

        rest("/api/v1/webhooks")
                .get("/attempts").id("rest-webhook-attempts").produces("application/json")
                    .description("The webhook delivery log, oldest first: each POST of a batch of events with the"
                            + " receiver's status, latency and the start of its answer (or the error). An admin key"
                            + " reads every workspace's, a workspace key its own")
                    .param().name("workspace").type(RestParamType.query).required(false)
                        .description("only this workspace's (a workspace key: its own)").dataType("string").endParam()
                    .param().name("outcome").type(RestParamType.query).required(false)
                        .description("DELIVERED, RETRY or FAILED").dataType("string").endParam()
                    .param().name("since").type(RestParamType.query).required(false)
                        .description("attempted at or after this time (RFC 3339)").dataType("string").endParam()
                    .param().name("until").type(RestParamType.query).required(false)
                        .description("attempted before this time (RFC 3339)").dataType("string").endParam()
                    .param().name("cursor").type(RestParamType.query).required(false)
                        .description("the previous page's next_cursor").dataType("string").endParam()
                    .param().name("limit").type(RestParamType.query).required(false)
                        .description("rows per page, 1 to 1000 (default 100)").dataType("integer").endParam()
                    .outType(DeliveryHistory.WebhookAttemptPage.class)
                    .responseMessage().code(400).message("an invalid filter, cursor or limit").endResponseMessage()
                    .responseMessage().code(401).message("no valid API key").endResponseMessage()
                    .responseMessage().code(403).message("a workspace key asking for another workspace")
                        .endResponseMessage()
                    .to("direct:history-webhook-attempts")
                .get("/failed").id("rest-failed-webhooks").produces("application/json")
                    .description("Events whose webhook delivery was given up, oldest first; replay or discard them"
                            + " with POST /api/v1/webhooks/failed/replay or /discard. An admin key reads every"
                            + " workspace's, a workspace key its own")
                    .param().name("workspace").type(RestParamType.query).required(false)
                        .description("only this workspace's (a workspace key: its own)").dataType("string").endParam()
                    .param().name("since").type(RestParamType.query).required(false)
                        .description("events created at or after this time (RFC 3339)").dataType("string").endParam()
                    .param().name("until").type(RestParamType.query).required(false)
                        .description("events created before this time (RFC 3339)").dataType("string").endParam()
                    .param().name("cursor").type(RestParamType.query).required(false)
                        .description("the previous page's next_cursor").dataType("string").endParam()
                    .param().name("limit").type(RestParamType.query).required(false)
                        .description("events per page, 1 to 1000 (default 100)").dataType("integer").endParam()
                    .outType(FailedWebhooks.FailedPage.class)
                    .responseMessage().code(400).message("an invalid filter, cursor or limit").endResponseMessage()
                    .responseMessage().code(401).message("no valid API key").endResponseMessage()
                    .responseMessage().code(403).message("a workspace key asking for another workspace")
                        .endResponseMessage()
                    .to("direct:webhooks-failed")
                .post("/failed/replay").id("rest-webhook-replay").consumes("application/json")
                    .produces("application/json")
                    .description("Sends failed webhook events back to the outbox (PENDING, due now, attempts reset)"
                            + " so that they are posted again: those named by event_ids, or by filter (workspace,"
                            + " since, until on the events' creation time), at most limit (default 1000) a call")
                    .param().name("body").type(RestParamType.body).required(false)
                        .description("{\"event_ids\": [..]} or {\"workspace\", \"since\", \"until\", \"limit\"}")
                        .dataType("object").endParam()
                    .outType(FailedWebhooks.Changed.class)
                    .responseMessage().code(400).message("an invalid field").endResponseMessage()
                    .responseMessage().code(401).message("no valid API key").endResponseMessage()
                    .responseMessage().code(403).message("a workspace key naming another workspace")
                        .endResponseMessage()
                    .to("direct:history-webhook-replay")
                .post("/failed/{eventId}/replay").id("rest-webhook-replay-one").produces("application/json")
                    .description("Sends one failed webhook event back to the outbox")
                    .param().name("eventId").type(RestParamType.path).description("the event id").dataType("integer")
                        .endParam()
                    .outType(FailedWebhooks.Changed.class)
                    .responseMessage().code(400).message("an invalid event id").endResponseMessage()
                    .responseMessage().code(401).message("no valid API key").endResponseMessage()
                    .to("direct:history-webhook-replay")
                .post("/failed/discard").id("rest-webhook-discard").consumes("application/json")
                    .produces("application/json")
                    .description("Discards failed webhook events with a reason (DISCARDED: never posted, no longer"
                            + " listed as failed): those named by event_ids, or by filter, at most limit a call")
                    .param().name("body").type(RestParamType.body).required(true)
                        .description("{\"reason\": \"...\", \"event_ids\": [..]} or a filter (workspace, since,"
                                + " until, limit) with the reason").dataType("object").endParam()
                    .outType(FailedWebhooks.Changed.class)
                    .responseMessage().code(400).message("no reason, or an invalid field").endResponseMessage()
                    .responseMessage().code(401).message("no valid API key").endResponseMessage()
                    .responseMessage().code(403).message("a workspace key naming another workspace")
                        .endResponseMessage()
                    .to("direct:history-webhook-discard")
                .post("/failed/{eventId}/discard").id("rest-webhook-discard-one").consumes("application/json")
                    .produces("application/json")
                    .description("Discards one failed webhook event with a reason")
                    .param().name("eventId").type(RestParamType.path).description("the event id").dataType("integer")
                        .endParam()
                    .param().name("body").type(RestParamType.body).required(true)
                        .description("{\"reason\": \"...\"}").dataType("object").endParam()
                    .outType(FailedWebhooks.Changed.class)
                    .responseMessage().code(400).message("no reason, or an invalid event id").endResponseMessage()
                    .responseMessage().code(401).message("no valid API key").endResponseMessage()
                    .to("direct:history-webhook-discard");

        from("direct:history-message-attempts").routeId("history-message-attempts")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("deliveryHistory", "messageAttempts")
                .bean("restResponses", "reply(*, 200)");

        from("direct:history-webhook-attempts").routeId("history-webhook-attempts")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("deliveryHistory", "webhookAttempts")
                .bean("restResponses", "reply(*, 200)");

        from("direct:webhooks-failed").routeId("webhooks-failed").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("failedWebhooks", "list")
                .bean("restResponses", "reply(*, 200)");

                from("direct:history-webhook-replay").routeId("history-webhook-replay")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("failedWebhooks", "replay")
                // Each workspace replayed is offered to the outbox now rather than at its next poll.
                .split(simple("${body.workspaces}"))
                    .setHeader(RelayHeaders.WORKSPACE, body())
                    .to("direct:events-written")
                .end()
                .bean("auditLog", "record(*, 'webhook.replay', null)")
                .bean("restResponses", "reply(*, 200)");

        from("direct:history-webhook-discard").routeId("history-webhook-discard")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("failedWebhooks", "discard")
                .bean("auditLog", "record(*, 'webhook.discard', null)")
                .bean("restResponses", "reply(*, 200)");
    }
}
