package com.mailrelay.inbound;

import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.builder.RouteBuilder;
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
                    .to("direct:inbound-mailgun")
                .post("/{workspace}/sendgrid").id("rest-inbound-sendgrid")
                    .consumes(ApiRequestValidation.JSON).clientRequestValidation(true)
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
