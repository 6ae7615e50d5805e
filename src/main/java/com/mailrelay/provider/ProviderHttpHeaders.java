package com.mailrelay.provider;

import java.util.Locale;
import java.util.Set;

import org.apache.camel.Exchange;
import org.apache.camel.spi.HeaderFilterStrategy;
import org.apache.camel.support.DefaultHeaderFilterStrategy;
import org.springframework.stereotype.Component;

/**
 * Which message headers an HTTP provider call may send (the templates' camel-http endpoints use it
 * as {@code headerFilterStrategy=#providerHttpHeaders}): only those a provider mapper sets for
 * the request — Authorization, Content-Type, Accept and X- headers such as Postmark's server token —
 * never the relay's own (relayWorkspace, relayMessageId...) or anything else on the exchange. Every
 * response header is kept, so that a classifier can read Retry-After or a provider's message id.
 */
@Component("providerHttpHeaders")
public class ProviderHttpHeaders implements HeaderFilterStrategy {

    private static final Set<String> SENT = Set.of("authorization", "content-type", "accept", "user-agent");

    private final HeaderFilterStrategy responses = new DefaultHeaderFilterStrategy();

    @Override
    public boolean applyFilterToCamelHeaders(String name, Object value, Exchange exchange) {
        String lower = name.toLowerCase(Locale.ROOT);
        return !(SENT.contains(lower) || lower.startsWith("x-"));
    }

    @Override
    public boolean applyFilterToExternalHeaders(String name, Object value, Exchange exchange) {
        return responses.applyFilterToExternalHeaders(name, value, exchange);
    }
}
