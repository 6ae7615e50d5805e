package com.mailrelay.support;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.Submission;
import org.apache.camel.CamelContext;
import org.apache.camel.CamelExecutionException;
import org.apache.camel.ProducerTemplate;
import org.springframework.context.ApplicationContext;

/**
 * The real accept path of a running relay, entered where both ingresses enter it
 * ({@code direct:accept}), for tests that fill a queue without an ingress in between. A refusal
 * is thrown as itself (RateLimitedException...), not wrapped by Camel.
 */
public final class AcceptPath {

    private final ProducerTemplate producer;

    private AcceptPath(CamelContext camel) {
        this.producer = camel.createProducerTemplate();
    }

    public static AcceptPath of(CamelContext camel) {
        return new AcceptPath(camel);
    }

    public static AcceptPath of(ApplicationContext context) {
        return of(context.getBean(CamelContext.class));
    }

    public Accepted accept(Submission submission) {
        try {
            return producer.requestBody("direct:accept", submission, Accepted.class);
        } catch (CamelExecutionException e) {
            throw e.getCause() instanceof RuntimeException refused ? refused : e;
        }
    }
}
