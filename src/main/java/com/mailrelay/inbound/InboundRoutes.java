package com.mailrelay.inbound;

import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * Provider event webhooks: {@code POST /api/v1/inbound/{workspace}/mailgun} and
 * {@code .../sendgrid}. No API key: the provider's signature, under the workspace's key, is the
 * credential. Each request is verified (401: nothing recorded), then recorded in one transaction
 * by {@code inbound-record}; its events reach the workspace's webhook like any other.
 */
@Component
public class InboundRoutes extends RouteBuilder {

    @Override
    public void configure() {
        // No produces: a provider's Accept is not ours to refuse (a 406 would make it retry, then give up).
        rest("/api/v1/inbound")
                .post("/{workspace}/mailgun").id("rest-inbound-mailgun")
                    .consumes(ApiRequestValidation.JSON).clientRequestValidation(true)
                    .description("Mailgun's event webhook for a workspace: signed with the workspace's Mailgun "
                            + "webhook signing key (no API key); the events are recorded and reach the workspace's webhook")
                    .param().name("workspace").type(RestParamType.path).required(true).dataType("string")
                        .description("the workspace the events belong to").endParam()
                    .param().name("body").type(RestParamType.body).required(true).dataType("object")
                        .description("Mailgun's webhook body, as Mailgun sends it (signature and event-data)").endParam()
                    .responseMessage().code(200).message("recorded (counts of recorded, unlinked, duplicate and "
                            + "ignored events)").responseModel(InboundRecorder.Outcome.class).endResponseMessage()
                    .responseMessage().code(400).message("the body is not a Mailgun webhook").endResponseMessage()
                    .responseMessage().code(401).message("the signature does not verify (nothing recorded)")
                        .endResponseMessage()
                    .responseMessage().code(404).message("no such workspace, or it takes no Mailgun events")
                        .endResponseMessage()
                    .to("direct:inbound-mailgun")
                .post("/{workspace}/sendgrid").id("rest-inbound-sendgrid")
                    .consumes(ApiRequestValidation.JSON).clientRequestValidation(true)
                    .description("SendGrid's signed event webhook for a workspace: verified with the workspace's "
                            + "SendGrid public key (no API key); the events are recorded and reach the workspace's webhook")
                    .param().name("workspace").type(RestParamType.path).required(true).dataType("string")
                        .description("the workspace the events belong to").endParam()
                    .param().name(SendGridWebhook.SIGNATURE_HEADER).type(RestParamType.header).required(true)
                        .dataType("string").description("SendGrid's ECDSA signature of the timestamp and body").endParam()
                    .param().name(SendGridWebhook.TIMESTAMP_HEADER).type(RestParamType.header).required(true)
                        .dataType("string").description("the time SendGrid signed").endParam()
                    .param().name("body").type(RestParamType.body).required(true).dataType("array")
                        .description("SendGrid's array of events, exactly as sent (the signature covers its bytes)")
                        .endParam()
                    .responseMessage().code(200).message("recorded (counts of recorded, unlinked, duplicate and "
                            + "ignored events)").responseModel(InboundRecorder.Outcome.class).endResponseMessage()
                    .responseMessage().code(400).message("the body is not a SendGrid event array").endResponseMessage()
                    .responseMessage().code(401).message("the signature does not verify (nothing recorded)")
                        .endResponseMessage()
                    .responseMessage().code(404).message("no such workspace, or it takes no SendGrid events")
                        .endResponseMessage()
                    .to("direct:inbound-sendgrid");

        // The body is read as bytes, untouched: SendGrid signs exactly what it sent.
        from("direct:inbound-mailgun").routeId("inbound-mailgun").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("mailgunWebhook", "verify(${header.workspace}, ${bodyAs(byte[])})")
                .to("direct:inbound-record");

        from("direct:inbound-sendgrid").routeId("inbound-sendgrid").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("sendGridWebhook", "verify(${header.workspace}, ${header[" + SendGridWebhook.SIGNATURE_HEADER
                        + "]}, ${header[" + SendGridWebhook.TIMESTAMP_HEADER + "]}, ${bodyAs(byte[])})")
                .to("direct:inbound-record");

        from("direct:inbound-record").routeId("inbound-record").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("inboundRecorder", "record")
                // Committed: the events go on at once (the response drops the header).
                .setHeader(RelayHeaders.WORKSPACE, header("workspace")).wireTap("direct:events-written")
                .bean("restResponses", "reply(*, 200)");

        from("scheduler:inbound-retention?delay={{relay.inbound.cleanup-interval}}").routeId("inbound-retention")
                .bean("inboundRetention", "purge");
    }
}
