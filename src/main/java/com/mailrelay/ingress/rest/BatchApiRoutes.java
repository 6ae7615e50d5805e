package com.mailrelay.ingress.rest;

import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.message.Refusal;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.AggregationStrategies;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * {@code POST /api/v1/messages/batch}: many messages in one request. The batch is read once;
 * each message is then split off, parsed (RestSubmissionParser, as POST /api/v1/messages parses
 * one) and taken through the accept steps of a single message (direct:accept-steps: its size,
 * its personalised copies) on its own, so that what is wrong with one refuses only that one; all
 * the accepted ones are then stored in ONE transaction (direct:accept-batch), and each answered
 * by its index (BatchView): 202 when all were accepted, 207 when any was refused. What is wrong
 * with the batch itself (not a batch, over relay.limits.batch-messages or batch-body-size, the
 * Kafka queue mode) refuses the whole request, and nothing of it is stored.
 */
@Component
public class BatchApiRoutes extends RouteBuilder {

    private final BatchRequests requests;

    public BatchApiRoutes(BatchRequests requests) {
        this.requests = requests;
    }

    @Override
    public void configure() {
        rest("/api/v1")
                .post("/messages/batch").id("rest-post-batch")
                    .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                    .description("Submits many messages at once (a workspace key): each checked and answered on "
                            + "its own, the accepted ones stored and queued in one transaction")
                    .type(BatchRequestSchema.class)
                    .param().name("body").type(RestParamType.body).required(true)
                        .description("the messages, as JSON: {\"messages\": [...]}").endParam()
                    .outType(BatchAnswerSchema.class)
                    .responseMessage().code(202).message("every message accepted: stored and queued")
                        .responseModel(BatchAnswerSchema.class).endResponseMessage()
                    .responseMessage().code(207).message("some or all messages refused, each with its own status "
                            + "and errors; the others stored and queued").responseModel(BatchAnswerSchema.class)
                        .endResponseMessage()
                    .responseMessage().code(400).message("the body is not a batch: {\"messages\": [...]} with at "
                            + "least one message").endResponseMessage()
                    .responseMessage().code(413).message("more messages than relay.limits.batch-messages, or a body "
                            + "over relay.limits.batch-body-size").endResponseMessage()
                    .responseMessage().code(501).message("batches need the database queue (relay.queue: database)")
                        .endResponseMessage()
                    .to("direct:rest-batch");

        from("direct:rest-batch").routeId("rest-batch").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .setProperty(RelayHeaders.WORKSPACE, header(RelayHeaders.WORKSPACE))
                // relay.queue is bound to an enum, case-insensitively: so is this test.
                .filter(simple("'{{relay.queue:database}}' =~ 'kafka'"))
                    .throwException(BatchUnavailableException.class, "batch sends need relay.queue: database "
                            + "(one transaction for all their messages); with relay.queue: kafka send each message "
                            + "to POST /api/v1/messages")
                .end()
                .convertBodyTo(byte[].class)
                .bean(requests, "items")
                // Item by item, in order: a refusal is that item's answer; anything else (the database
                // gone while copies are built) fails the batch, with nothing stored (503).
                .split(body(), AggregationStrategies.flexible().accumulateInCollection(java.util.ArrayList.class))
                        .stopOnException()
                    .doTry()
                        .bean(requests, "submission")
                        .to("direct:accept-steps")
                    .doCatch(Refusal.class)
                        .setBody(exchangeProperty(Exchange.EXCEPTION_CAUGHT))
                    .end()
                .end()
                .to("direct:accept-batch")
                .log(LoggingLevel.INFO, "batch of ${body.size()} message(s) answered for workspace "
                        + "${exchangeProperty." + RelayHeaders.WORKSPACE + "}")
                .choice().when(method(BatchView.class, "allAccepted"))
                    .transform(method(BatchView.class, "of"))
                    .bean("restResponses", "reply(*, 202)")
                .otherwise()
                    .transform(method(BatchView.class, "of"))
                    .bean("restResponses", "reply(*, 207)")
                .end();
    }
}
