package com.mailrelay.inbound;

import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.api.RestResponses;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
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

    private final MailgunWebhook mailgun;
    private final SendGridWebhook sendgrid;
    private final InboundRecorder recorder;
    private final RestResponses responses;

    public InboundRoutes(MailgunWebhook mailgun, SendGridWebhook sendgrid, InboundRecorder recorder,
                         RestResponses responses) {
        this.mailgun = mailgun;
        this.sendgrid = sendgrid;
        this.recorder = recorder;
        this.responses = responses;
    }

    @Override
    public void configure() {
        rest("/api/v1/inbound")
                .post("/{workspace}/mailgun").id("rest-inbound-mailgun").to("direct:inbound-mailgun")
                .post("/{workspace}/sendgrid").id("rest-inbound-sendgrid").to("direct:inbound-sendgrid");

        // The body is read as bytes, untouched: SendGrid signs exactly what it sent.
        from("direct:inbound-mailgun").routeId("inbound-mailgun").routeConfigurationId(RestErrorConfiguration.ID)
                .process(e -> e.getMessage().setBody(mailgun.verify(workspace(e), body(e))))
                .to("direct:inbound-record");

        from("direct:inbound-sendgrid").routeId("inbound-sendgrid").routeConfigurationId(RestErrorConfiguration.ID)
                .process(e -> e.getMessage().setBody(sendgrid.verify(workspace(e),
                        e.getMessage().getHeader(SendGridWebhook.SIGNATURE_HEADER, String.class),
                        e.getMessage().getHeader(SendGridWebhook.TIMESTAMP_HEADER, String.class), body(e))))
                .to("direct:inbound-record");

        from("direct:inbound-record").routeId("inbound-record").routeConfigurationId(RestErrorConfiguration.ID)
                .setBody(method(recorder, "record"))
                // Committed: the events go on at once (the response drops the header).
                .setHeader(RelayHeaders.WORKSPACE, header("workspace")).wireTap("direct:events-written")
                .process(e -> responses.respond(e, 200, e.getMessage().getBody()));

        from("scheduler:inbound-retention?delay={{relay.inbound.cleanup-interval}}").routeId("inbound-retention")
                .bean("inboundRetention", "purge");
    }

    private static String workspace(Exchange exchange) {
        return exchange.getMessage().getHeader("workspace", String.class);
    }

    private static byte[] body(Exchange exchange) {
        return exchange.getMessage().getBody(byte[].class);
    }
}
