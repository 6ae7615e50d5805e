package com.mailrelay.events;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * Webhook delivery, step by step. {@code webhook-poll} finds the workspaces with events due and
 * hands each to {@code webhook-deliver}, whose relay.webhooks.concurrency consumers each deliver
 * one workspace at a time: claim its next batch (the workspace's lease, see {@link WebhookOutbox}),
 * drop an empty claim, POST it outside any transaction, record the outcome. A receiver that never
 * answers holds only its own consumer, for at most the HTTP timeouts; the other workspaces go on.
 * Any non-2xx answer, or no answer, is a failure that the batch retries with backoff.
 */
@Component
public class WebhookRoutes extends RouteBuilder {

    static final String BATCH = "relayWebhookBatch";

    @Override
    public void configure() {
        from("scheduler:webhooks?delay={{relay.webhooks.poll-delay}}")
                .routeId("webhook-poll")
                .autoStartup("{{relay.webhooks.enabled}}")
                .setBody(method("webhookOutbox", "due"))
                .split(body())
                    .to("seda:webhook-deliver?blockWhenFull=true")
                .end();

        // Delivery routes pass failures to their caller (no error handler), so the outcome of a
        // failed claim or POST is recorded here, by doCatch.
        from("seda:webhook-deliver?concurrentConsumers={{relay.webhooks.concurrency}}")
                .routeId("webhook-deliver")
                .autoStartup("{{relay.webhooks.enabled}}")
                .doTry()
                    .setBody(method("webhookOutbox", "claim(${body})")).id("webhook-claim")
                    .filter(body().isNotNull())
                        .setProperty(BATCH, body())
                        .bean("webhookOutbox", "request")
                        .setHeader(Exchange.HTTP_METHOD, constant("POST"))
                        .setHeader(Exchange.CONTENT_TYPE, constant("application/x-www-form-urlencoded"))
                        .to("http:webhook?throwExceptionOnFailure=true&followRedirects=false"
                                + "&httpClientConfigurer=#webhookHttpClient"
                                + "&connectTimeout={{relay.webhooks.timeout-millis}}"
                                + "&responseTimeout={{relay.webhooks.timeout-millis}}")
                        .id("webhook-http")
                        .bean("webhookOutbox", "delivered(${exchangeProperty." + BATCH + "})")
                    .endDoTry()
                .doCatch(Exception.class)
                    .bean("webhookOutbox", "recordFailure(${exchangeProperty." + BATCH + "}, ${exception})")
                .end();
    }
}
