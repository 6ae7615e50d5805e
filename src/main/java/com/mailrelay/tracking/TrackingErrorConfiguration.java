package com.mailrelay.tracking;

import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.springframework.stereotype.Component;

/**
 * Errors of the public tracking and unsubscribe endpoints: a link that is not ours is a plain 404,
 * one of ours that expired a 410 page (both recording nothing); anything else a 503, and the client
 * may try again. The path is never logged: it holds the token (a credential) and so the address.
 */
@Component
public class TrackingErrorConfiguration extends RouteConfigurationBuilder {

    public static final String ID = "tracking-errors";

    @Override
    public void configuration() {
        routeConfiguration(ID)
                .onException(LinkNotFoundException.class).handled(true)
                    .log(LoggingLevel.INFO, "${routeId} answered 404: ${exception.message}")
                    .bean("trackingResponses", "plain(*, 404, 'not found')")
                .end()
                .onException(LinkExpiredException.class).handled(true)
                    .log(LoggingLevel.INFO, "${routeId} answered 410: ${exception.message}")
                    .bean("trackingResponses", "expired")
                .end()
                .onException(Exception.class).handled(true)
                    .log(LoggingLevel.ERROR, "${routeId} failed: ${exception.stacktrace}")
                    .bean("trackingResponses", "plain(*, 503, 'temporarily unavailable, try again later')")
                    .setHeader("Retry-After", constant("5"))
                .end();
    }
}
