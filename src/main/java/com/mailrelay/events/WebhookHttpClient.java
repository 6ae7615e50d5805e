package com.mailrelay.events;

import org.apache.camel.component.http.HttpClientConfigurer;
import org.apache.hc.client5.http.impl.classic.HttpClientBuilder;
import org.springframework.stereotype.Component;

/**
 * The webhook POST's HTTP client makes one attempt: HttpClient would otherwise send a POST again
 * by itself on a 503 (after its Retry-After), doubling how long a failing receiver holds a worker
 * and posting outside the relay's backoff. Retries are the outbox's, durable and with backoff.
 */
@Component("webhookHttpClient")
public class WebhookHttpClient implements HttpClientConfigurer {

    @Override
    public void configureHttpClient(HttpClientBuilder clientBuilder) {
        clientBuilder.disableAutomaticRetries();
    }
}
