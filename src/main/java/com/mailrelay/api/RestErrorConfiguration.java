package com.mailrelay.api;

import com.mailrelay.message.Refusal;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.springframework.stereotype.Component;

/**
 * Every API error, answered once: a {@link Refusal} carries its own status, code and headers;
 * anything unexpected is a 503 (nothing was stored, try again).
 */
@Component
public class RestErrorConfiguration extends RouteConfigurationBuilder {

    public static final String ID = "rest-errors";

    @Override
    public void configuration() {
        routeConfiguration(ID)
                .onException(Refusal.class).handled(true)
                    .bean("restResponses", "refused")
                .end()
                // A chunked body cut at its limit while the route read it; the rest of it is never read.
                .onException(BodyTooLargeException.class).handled(true)
                    .bean("restResponses", "error(*, 413, message_too_large)")
                    .setHeader("Connection", constant("close"))
                .end()
                .onException(Exception.class).handled(true)
                    .bean("restResponses", "error(*, 503, unavailable)")
                    .setHeader("Retry-After", constant("5"))
                .end();
    }
}
