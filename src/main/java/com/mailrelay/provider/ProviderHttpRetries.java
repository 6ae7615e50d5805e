package com.mailrelay.provider;

import java.io.IOException;

import org.apache.hc.client5.http.HttpRequestRetryStrategy;
import org.apache.hc.core5.http.HttpRequest;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http.protocol.HttpContext;
import org.apache.hc.core5.util.TimeValue;
import org.springframework.stereotype.Component;

/**
 * The retry strategy of the HTTP provider calls (the templates' camel-http endpoints use it as
 * {@code httpClient.retryStrategy=#providerHttpRetries}): none. HttpClient's default strategy
 * would repeat a 429 or 503 itself, waiting out the provider's Retry-After inside the call —
 * holding a worker, running into the attempt deadline, and hiding the answer from the relay, whose
 * deferral honours Retry-After without holding anything. Every retry is the relay's.
 */
@Component("providerHttpRetries")
public class ProviderHttpRetries implements HttpRequestRetryStrategy {

    @Override
    public boolean retryRequest(HttpRequest request, IOException exception, int execCount, HttpContext context) {
        return false;
    }

    @Override
    public boolean retryRequest(HttpResponse response, int execCount, HttpContext context) {
        return false;
    }

    @Override
    public TimeValue getRetryInterval(HttpResponse response, int execCount, HttpContext context) {
        return TimeValue.ZERO_MILLISECONDS;
    }
}
