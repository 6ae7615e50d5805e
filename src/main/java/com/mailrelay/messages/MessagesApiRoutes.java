package com.mailrelay.messages;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * The management API of messages and dead letters: list and read messages (never their MIME, but
 * for {@code /raw}), cancel, retry now, and replay or discard dead letters, one or by filter. Every
 * route checks the key first (callers.anyKey: a workspace key acts on its own workspace, an admin
 * key on any), and every action that changed something is audited (message.cancel,
 * message.retry, dead-letter.replay, dead-letter.discard) before the answer. Single actions
 * answer from the outcome of their one conditional update: the choice below takes "changed";
 * messageActions.refuse names why not (404, 409, 410).
 */
@Component
public class MessagesApiRoutes extends RouteBuilder {

    private static final ApiError NOT_FOUND = new ApiError("not_found", "no message with this id that this key may see");
    private static final ApiError MIME_DROPPED = new ApiError("gone", "this message's stored MIME was dropped by"
            + " retention (relay.retention.raw-mime); its row and history are still there");

    @Override
    public void configure() {
        RestDefinition rest = rest("/api/v1");
        rest.get("/messages").id("rest-list-messages").produces("application/json")
                .description("Messages oldest (or newest) first by accept time, one page per request (cursor),"
                        + " filtered; never their MIME. A workspace key lists its own workspace, an admin key every one")
                .param().name("status").type(RestParamType.query).dataType("string")
                    .description("QUEUED, SENDING, SENT, DEFERRED, FAILED, REJECTED or CANCELLED").endParam()
                .param().name("workspace").type(RestParamType.query).dataType("string")
                    .description("only this workspace's (an admin key; a workspace key may name only its own)").endParam()
                .param().name("type").type(RestParamType.query).dataType("string")
                    .description("email type: transactional, marketing, system or notification").endParam()
                .param().name("campaign").type(RestParamType.query).dataType("string")
                    .description("campaign_id, exactly").endParam()
                .param().name("tag").type(RestParamType.query).dataType("string")
                    .description("one of the message's tags, exactly").endParam()
                .param().name("recipient").type(RestParamType.query).dataType("string")
                    .description("one of the envelope recipients, exactly (case-insensitive)").endParam()
                .param().name("since").type(RestParamType.query).dataType("string")
                    .description("accepted at or after (RFC 3339)").endParam()
                .param().name("until").type(RestParamType.query).dataType("string")
                    .description("accepted before (RFC 3339)").endParam()
                .param().name("cursor").type(RestParamType.query).dataType("string")
                    .description("the next_cursor of the previous page").endParam()
                .param().name("limit").type(RestParamType.query).dataType("integer")
                    .description("messages per page, 1 to 1000 (default 100)").endParam()
                .param().name("scheduled").type(RestParamType.query).dataType("boolean")
                    .description("true: only messages waiting for their send_at (QUEUED, send_at ahead);"
                            + " cancel one with DELETE /api/v1/messages/{id}").endParam()
                .param().name("order").type(RestParamType.query).dataType("string")
                    .description("oldest (default) or newest first; a cursor continues the order it was given in")
                    .endParam()
                .outType(MessageListing.Page.class)
                .responseMessage().code(400).message("an invalid parameter, each named").endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key naming another workspace").endResponseMessage()
                .to("direct:messages-list")

            .get("/messages/{id}").id("rest-get-message").produces("application/json")
                .description("A message without its MIME, its events one page at a time, and links to its raw MIME"
                        + " and delivery attempts; a workspace key reads its own workspace's, an admin key any")
                .param().name("id").type(RestParamType.path).dataType("string").description("the message id").endParam()
                .param().name("after").type(RestParamType.query).dataType("integer")
                    .description("the id of the last event already seen").endParam()
                .param().name("limit").type(RestParamType.query).dataType("integer")
                    .description("events per page, 1 to 1000 (default 100)").endParam()
                .outType(MessageView.class)
                .responseMessage().code(400).message("an invalid after or limit").endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(404).message("no such message that this key may see").endResponseMessage()
                .to("direct:messages-get")

            .get("/messages/{id}/raw").id("rest-get-message-raw").produces("message/rfc822")
                .description("The message's MIME exactly as stored (what every provider is sent), as message/rfc822")
                .param().name("id").type(RestParamType.path).dataType("string").description("the message id").endParam()
                .responseMessage().code(200).message("the stored bytes").endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(404).message("no such message that this key may see").endResponseMessage()
                .responseMessage().code(410).message("the MIME was dropped by retention").endResponseMessage()
                .to("direct:messages-raw")

            .delete("/messages/{id}").id("rest-cancel-message").produces("application/json")
                .description("Cancels a QUEUED or DEFERRED message: CANCELLED, never sent; an event in its history")
                .param().name("id").type(RestParamType.path).dataType("string").description("the message id").endParam()
                .outType(MessageActions.Result.class)
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(404).message("no such message that this key may see").endResponseMessage()
                .responseMessage().code(409).message("not QUEUED or DEFERRED (e.g. a worker took it): its status is named")
                    .endResponseMessage()
                .to("direct:messages-cancel")

            .post("/messages/{id}/retry").id("rest-retry-message").produces("application/json")
                .description("Makes a DEFERRED message due now (its attempts unchanged); an event in its history")
                .param().name("id").type(RestParamType.path).dataType("string").description("the message id").endParam()
                .outType(MessageActions.Result.class)
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(404).message("no such message that this key may see").endResponseMessage()
                .responseMessage().code(409).message("not DEFERRED: its status is named").endResponseMessage()
                .to("direct:messages-retry");

        deadLetterFilter(rest.get("/dead-letters").id("rest-list-dead-letters").produces("application/json")
                .description("FAILED messages not discarded, oldest first, with their reason, provider and the last"
                        + " reply; cursor pagination"))
                .param().name("cursor").type(RestParamType.query).dataType("string")
                    .description("the next_cursor of the previous page").endParam()
                .param().name("limit").type(RestParamType.query).dataType("integer")
                    .description("dead letters per page, 1 to 1000 (default 100)").endParam()
                .outType(DeadLetters.Page.class)
                .responseMessage().code(400).message("an invalid parameter, each named").endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key naming another workspace").endResponseMessage()
                .to("direct:dead-letters-list");

        deadLetterFilter(rest.get("/dead-letters/groups").id("rest-group-dead-letters").produces("application/json")
                .description("The dead letters a filter names, grouped by reason and provider, largest group first:"
                        + " each group's count and when its first and last failed, and the total the filter names"
                        + " (what a replay or discard by the same filter changes)"))
                .param().name("limit").type(RestParamType.query).dataType("integer")
                    .description("groups, 1 to 1000 (default 100); more says whether some were left off").endParam()
                .outType(DeadLetters.Groups.class)
                .responseMessage().code(400).message("an invalid parameter, each named").endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key naming another workspace").endResponseMessage()
                .to("direct:dead-letters-groups");

        rest.post("/dead-letters/replay").id("rest-replay-dead-letters")
                .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                .description("Replays the dead letters a filter names (workspace, provider, reason, type, since, until,"
                        + " ids: a selection of at most 1000; at most limit, 10000 by default and at most): QUEUED,"
                        + " due now, attempts reset")
                .outType(DeadLetters.Bulk.class)
                .responseMessage().code(400).message("not a JSON object, an unknown field, an invalid value")
                    .endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key naming another workspace").endResponseMessage()
                .responseMessage().code(415).message("a body that is not JSON").endResponseMessage()
                .to("direct:dead-letters-replay-matching")

            .post("/dead-letters/discard").id("rest-discard-dead-letters")
                .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                .description("Discards the dead letters a filter names (the replay's filter, ids included), with a"
                        + " discard_reason: they stay FAILED and leave the dead-letter list")
                .outType(DeadLetters.Bulk.class)
                .responseMessage().code(400).message("not a JSON object, an unknown field, no discard_reason")
                    .endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(403).message("a workspace key naming another workspace").endResponseMessage()
                .responseMessage().code(415).message("a body that is not JSON").endResponseMessage()
                .to("direct:dead-letters-discard-matching")

            .post("/dead-letters/{id}/replay").id("rest-replay-dead-letter").produces("application/json")
                .description("Replays one dead letter: QUEUED, due now, attempts reset; an event in its history")
                .param().name("id").type(RestParamType.path).dataType("string").description("the message id").endParam()
                .outType(MessageActions.Result.class)
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(404).message("no such message that this key may see").endResponseMessage()
                .responseMessage().code(409).message("not a dead letter (not FAILED, or discarded)").endResponseMessage()
                .responseMessage().code(410).message("its MIME was dropped by retention").endResponseMessage()
                .to("direct:dead-letters-replay")

            .post("/dead-letters/{id}/discard").id("rest-discard-dead-letter")
                .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                .description("Discards one dead letter with a discard_reason: it stays FAILED and leaves the list")
                .param().name("id").type(RestParamType.path).dataType("string").description("the message id").endParam()
                .outType(MessageActions.Result.class)
                .responseMessage().code(400).message("no discard_reason").endResponseMessage()
                .responseMessage().code(401).message("no valid API key").endResponseMessage()
                .responseMessage().code(404).message("no such message that this key may see").endResponseMessage()
                .responseMessage().code(409).message("not a dead letter (not FAILED, or discarded)").endResponseMessage()
                .responseMessage().code(415).message("a body that is not JSON").endResponseMessage()
                .to("direct:dead-letters-discard");

        from("direct:messages-list").routeId("messages-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("messageListing", "list")
                .bean("restResponses", "reply(*, 200)");

        from("direct:messages-get").routeId("messages-get").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("messageLookup", "find")
                .choice()
                    .when(body().isNull())
                        .setBody(constant(NOT_FOUND))
                        .bean("restResponses", "reply(*, 404)")
                    .otherwise()
                        .bean("restResponses", "reply(*, 200)")
                .end();

        from("direct:messages-raw").routeId("messages-raw").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("messageLookup", "raw")
                .choice()
                    .when(body().isNull())
                        .setBody(constant(NOT_FOUND))
                        .bean("restResponses", "reply(*, 404)")
                    .when(simple("${body.bytes()} == null"))
                        .setBody(constant(MIME_DROPPED))
                        .bean("restResponses", "reply(*, 410)")
                    .otherwise()
                        .bean("messageLookup", "rawAnswer")
                .end();

        action("messages-cancel", "messageActions", "cancel", "cancel", "message.cancel");
        action("messages-retry", "messageActions", "retry", "retry", "message.retry");
        action("dead-letters-replay", "deadLetters", "replay", "replay", "dead-letter.replay");
        action("dead-letters-discard", "deadLetters", "discard", "discard", "dead-letter.discard");

        from("direct:dead-letters-list").routeId("dead-letters-list").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("deadLetters", "list")
                .bean("restResponses", "reply(*, 200)");

        from("direct:dead-letters-groups").routeId("dead-letters-groups").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("deadLetters", "groups")
                .bean("restResponses", "reply(*, 200)");

        from("direct:dead-letters-replay-matching").routeId("dead-letters-replay-matching")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("deadLetters", "replayMatching")
                .bean("auditLog", "record(*, 'dead-letter.replay', null)")
                .bean("restResponses", "reply(*, 200)");

        from("direct:dead-letters-discard-matching").routeId("dead-letters-discard-matching")
                .routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean("deadLetters", "discardMatching")
                .bean("auditLog", "record(*, 'dead-letter.discard', null)")
                .bean("restResponses", "reply(*, 200)");
    }

    /**
     * A route acting on one message: the bean's conditional update, then the answer — audited 200
     * when it changed the message, else the refusal that says why not.
     */
    private void action(String routeId, String bean, String method, String action, String audited) {
        from("direct:" + routeId).routeId(routeId).routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "anyKey")
                .bean(bean, method)
                .choice()
                    .when(simple("${body.changed()}"))
                        .bean("messageActions", "done(*, ${body}, ${header.id}, '" + action + "')")
                        .bean("auditLog", "record(*, '" + audited + "', ${header.id})")
                        .bean("restResponses", "reply(*, 200)")
                    .otherwise()
                        .bean("messageActions", "refuse(${body}, ${header.id}, '" + action + "')")
                .end();
    }

    /** The query parameters of a dead-letter filter: the list and its groups take the same. */
    private static RestDefinition deadLetterFilter(RestDefinition verb) {
        return verb
                .param().name("workspace").type(RestParamType.query).dataType("string")
                    .description("only this workspace's (an admin key; a workspace key may name only its own)").endParam()
                .param().name("provider").type(RestParamType.query).dataType("string")
                    .description("the provider that failed it, exactly").endParam()
                .param().name("reason").type(RestParamType.query).dataType("string")
                    .description("text the failure reason contains (case-insensitive)").endParam()
                .param().name("type").type(RestParamType.query).dataType("string")
                    .description("email type: transactional, marketing, system or notification").endParam()
                .param().name("since").type(RestParamType.query).dataType("string")
                    .description("failed at or after (RFC 3339)").endParam()
                .param().name("until").type(RestParamType.query).dataType("string")
                    .description("failed before (RFC 3339)").endParam();
    }
}
