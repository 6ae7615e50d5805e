package com.mailrelay.events;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * Webhook delivery, step by step. A workspace is offered to the queue {@code seda:webhook-deliver}
 * by {@code webhook-offer}, which lets it in only when its next event is due and it is not waiting
 * there already (see {@link WebhookOutbox#offer}); three things offer: {@code events-written},
 * right after a state change committed new events (see {@link EventsWrittenRoutes}), a worker
 * that just finished a batch (more may have come meanwhile), and {@code webhook-poll}, the backstop
 * for what a crash or a failure left and for batches whose backoff ran out.
 * <p>
 * {@code webhook-deliver}'s relay.webhooks.concurrency consumers each deliver one workspace at a
 * time: claim its next batch (the workspace's lease, see {@link WebhookOutbox}), drop an empty
 * claim, POST it outside any transaction, record the outcome. A receiver that never answers holds
 * only its own consumer, for at most the HTTP timeouts; the other workspaces go on. Any non-2xx
 * answer, or no answer, is a failure: retried with backoff, or given up when hopeless.
 */
@Component
public class WebhookRoutes extends RouteBuilder {

    static final String BATCH = "relayWebhookBatch";

    @Override
    public void configure() {
        from("scheduler:webhooks?delay={{relay.webhooks.poll-delay}}")
                .routeId("webhook-poll")
                .autoStartup("{{relay.webhooks.enabled}}")
                .split(method("webhookOutbox", "workspaces"))
                    .to("direct:webhook-offer")
                .end();

        // The body is the workspace. The queue holds at most one entry per workspace, so it never fills.
        from("direct:webhook-offer").routeId("webhook-offer")
                .filter(method("webhookOutbox", "offer(${body})"))
                    .to("seda:webhook-deliver?blockWhenFull=true")
                .end();

        // Delivery routes pass failures to their caller (no error handler), so the outcome of a
        // failed claim or POST is recorded here, by doCatch (webhook-failed-attempt).
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
                        .bean("webhookAttempts", "start")
                        .to("http:webhook?throwExceptionOnFailure=true&followRedirects=false"
                                + "&httpClientConfigurer=#webhookHttpClient"
                                + "&connectTimeout={{relay.webhooks.timeout-millis}}"
                                + "&responseTimeout={{relay.webhooks.timeout-millis}}")
                        .id("webhook-http")
                        .setProperty(WebhookAttempts.ATTEMPT, method("webhookAttempts", "delivered"))
                        .bean("webhookOutbox", "delivered(${exchangeProperty." + BATCH + "}, ${exchangeProperty."
                                + WebhookAttempts.ATTEMPT + "})")
                    .endDoTry()
                .doCatch(Exception.class)
                    .to("direct:webhook-failed-attempt")
                .end()
                .removeProperty(WebhookAttempts.ATTEMPT)
                // Events written while this batch was out, or the rest of a full batch, go now rather
                // than at the next poll. Only after a batch: each round trip here moved events on.
                .filter(exchangeProperty(BATCH).isNotNull())
                    .setBody(simple("${exchangeProperty." + BATCH + ".workspace}"))
                    .removeProperty(BATCH)
                    .to("direct:webhook-offer")
                .end();

        // A failed claim or POST (the exception is the caught one): retried with backoff, or given up.
        // The POST's status, latency and answer (or error) go to the delivery log with the outcome.
        from("direct:webhook-failed-attempt").routeId("webhook-failed-attempt")
                .setProperty(WebhookAttempts.ATTEMPT, method("webhookAttempts", "failed(*, ${exception})"))
                .choice()
                    .when(exchangeProperty(BATCH).isNull())
                        .bean("webhookOutbox", "notRun(${exception})")
                    // Past max-age, or one event refused as too large (413): FAILED, and the queue moves on.
                    .when(method("webhookOutbox", "hopeless(${exchangeProperty." + BATCH + "}, ${exception})"))
                        .bean("webhookOutbox", "giveUp(${exchangeProperty." + BATCH + "}, ${exception}, ${exchangeProperty."
                                + WebhookAttempts.ATTEMPT + "})")
                    .otherwise()
                        .bean("webhookOutbox", "retryLater(${exchangeProperty." + BATCH + "}, ${exception}, ${exchangeProperty."
                                + WebhookAttempts.ATTEMPT + "})")
                .end();
    }
}
