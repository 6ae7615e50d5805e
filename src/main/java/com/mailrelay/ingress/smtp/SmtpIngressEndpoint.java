package com.mailrelay.ingress.smtp;

import org.apache.camel.Consumer;
import org.apache.camel.Processor;
import org.apache.camel.Producer;
import org.apache.camel.support.DefaultEndpoint;

/** {@code smtp-ingress:submissions}: consumed by one route; nothing sends to it (SMTP clients do). */
final class SmtpIngressEndpoint extends DefaultEndpoint {

    private final SmtpIngress ingress;

    SmtpIngressEndpoint(String uri, SmtpIngressComponent component, SmtpIngress ingress) {
        super(uri, component);
        this.ingress = ingress;
    }

    @Override
    public Producer createProducer() {
        throw new UnsupportedOperationException(getEndpointUri() + " only receives: SMTP clients submit to it");
    }

    @Override
    public Consumer createConsumer(Processor processor) throws Exception {
        SmtpIngressConsumer consumer = new SmtpIngressConsumer(this, processor, ingress);
        configureConsumer(consumer);
        return consumer;
    }
}
