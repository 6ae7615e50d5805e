package com.mailrelay.ingress.smtp;

import java.util.Map;

import org.apache.camel.Endpoint;
import org.apache.camel.support.DefaultComponent;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * The {@code smtp-ingress} Camel component: its one endpoint, {@code smtp-ingress:submissions},
 * is where the SMTP server's messages enter a route (see {@link SmtpIngressConsumer}). Bound by
 * its bean name, which Camel takes as the URI scheme.
 */
@Component(SmtpIngressComponent.SCHEME)
@ConditionalOnProperty(name = "relay.smtp.enabled", havingValue = "true", matchIfMissing = true)
public class SmtpIngressComponent extends DefaultComponent {

    static final String SCHEME = "smtp-ingress";
    static final String SUBMISSIONS = "submissions";

    private final SmtpIngress ingress;

    public SmtpIngressComponent(SmtpIngress ingress) {
        this.ingress = ingress;
    }

    @Override
    protected Endpoint createEndpoint(String uri, String remaining, Map<String, Object> parameters) {
        if (!SUBMISSIONS.equals(remaining)) {
            throw new IllegalArgumentException(uri + ": the SMTP server has one endpoint, "
                    + SCHEME + ":" + SUBMISSIONS);
        }
        return new SmtpIngressEndpoint(uri, this, ingress);
    }
}
