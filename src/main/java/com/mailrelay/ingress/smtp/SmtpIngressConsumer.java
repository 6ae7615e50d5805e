package com.mailrelay.ingress.smtp;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.Submission;
import org.apache.camel.Exchange;
import org.apache.camel.Processor;
import org.apache.camel.support.DefaultConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP server as the consumer of its route: starting the route opens the server
 * ({@link SmtpIngress#open}), stopping it drains and closes it, and each message at the end of
 * DATA becomes one exchange, processed on the SMTP session's thread before the reply is sent.
 */
final class SmtpIngressConsumer extends DefaultConsumer implements SmtpIngress.Handover {

    private static final Logger log = LoggerFactory.getLogger(SmtpIngressConsumer.class);

    private final SmtpIngress ingress;

    SmtpIngressConsumer(SmtpIngressEndpoint endpoint, Processor processor, SmtpIngress ingress) {
        super(endpoint, processor);
        this.ingress = ingress;
    }

    @Override
    protected void doStart() throws Exception {
        super.doStart();
        ingress.open(this);
    }

    @Override
    protected void doStop() throws Exception {
        ingress.close();
        super.doStop();
    }

    /**
     * Runs the route with the submission as body; returns its {@link Accepted}, or the
     * {@link SmtpReply} the route's reply configuration answered with.
     */
    @Override
    public Object submit(Submission submission, String client) {
        Exchange exchange = createExchange(false);
        try {
            exchange.getMessage().setBody(submission);
            exchange.setProperty(SmtpReplies.CLIENT, client);
            getProcessor().process(exchange);
            Object body = exchange.getMessage().getBody();
            if (exchange.getException() == null && (body instanceof Accepted || body instanceof SmtpReply)) {
                return body;
            }
            // Only a route without the smtp-replies configuration gets here.
            log.error("SMTP message from {} not stored (the route answered {}); answering 451", client,
                    body == null ? null : body.getClass().getSimpleName(), exchange.getException());
        } catch (Exception e) {
            log.error("SMTP message from {} not stored; answering 451", client, e);
        } finally {
            releaseExchange(exchange, false);
        }
        return SmtpReply.NOT_STORED;
    }
}
