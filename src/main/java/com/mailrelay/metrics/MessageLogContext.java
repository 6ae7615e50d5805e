package com.mailrelay.metrics;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.Submission;
import org.apache.camel.Exchange;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.slf4j.MDC;
import org.springframework.stereotype.Component;

/**
 * Puts the message id and workspace into the logging MDC ({@value #MESSAGE_ID}, {@value #WORKSPACE})
 * while one message is handled, so that every log line of its accept and of its delivery carries
 * them — as fields of their own in the structured JSON logs (logging.structured.format.console).
 * Set where the exchange starts being handled for a message: the send to {@code direct:accept}
 * (the body is its Submission; a personalised message is named by its first id) and to
 * {@code direct:deliver} (its ClaimedMessage). Cleared when the delivery's send returns, and for
 * an accept when its request's exchange completes (the 202 / 250 or the refusal is logged after
 * the accept path returned). Lines logged on other threads (group commit, provider calls under a
 * deadline) name the message in their text.
 */
@Component
public class MessageLogContext extends EventNotifierSupport {

    public static final String MESSAGE_ID = "message_id";
    public static final String WORKSPACE = "workspace";
    /** Exchange property: this exchange set the MDC, and clears it when it completes. */
    private static final String SET = "relayLogContext";

    public MessageLogContext() {
        setIgnoreCamelContextEvents(true);
        setIgnoreRouteEvents(true);
        setIgnoreServiceEvents(true);
        setIgnoreStepEvents(true);
        setIgnoreExchangeCreatedEvent(true);
        setIgnoreExchangeRedeliveryEvents(true);
        setIgnoreExchangeAsyncProcessingStartedEvents(true);
    }

    @Override
    public boolean isEnabled(CamelEvent event) {
        return event instanceof CamelEvent.ExchangeSendingEvent || event instanceof CamelEvent.ExchangeSentEvent
                || event instanceof CamelEvent.ExchangeCompletedEvent || event instanceof CamelEvent.ExchangeFailedEvent;
    }

    @Override
    public void notify(CamelEvent event) {
        if (event instanceof CamelEvent.ExchangeSendingEvent sending) {
            String uri = sending.getEndpoint().getEndpointUri();
            Object body = sending.getExchange().getMessage().getBody();
            if (body instanceof Submission submission && isDirect(uri, "accept")) {
                put(sending.getExchange(), submission.id().toString(), submission.workspaceId());
            } else if (body instanceof ClaimedMessage message && isDirect(uri, "deliver")) {
                put(sending.getExchange(), message.id().toString(), message.workspaceId());
            }
        } else if (event instanceof CamelEvent.ExchangeSentEvent sent) {
            if (isDirect(sent.getEndpoint().getEndpointUri(), "deliver")) {
                clear(sent.getExchange());
            }
        } else if (event instanceof CamelEvent.ExchangeCompletedEvent || event instanceof CamelEvent.ExchangeFailedEvent) {
            clear(((CamelEvent.ExchangeEvent) event).getExchange());
        }
    }

    private static boolean isDirect(String uri, String name) {
        return uri.equals("direct://" + name) || uri.equals("direct:" + name);
    }

    private static void put(Exchange exchange, String messageId, String workspace) {
        MDC.put(MESSAGE_ID, messageId);
        MDC.put(WORKSPACE, workspace);
        exchange.setProperty(SET, Boolean.TRUE);
    }

    private static void clear(Exchange exchange) {
        if (exchange.getProperty(SET) != null) {
            exchange.removeProperty(SET);
            MDC.remove(MESSAGE_ID);
            MDC.remove(WORKSPACE);
        }
    }
}
