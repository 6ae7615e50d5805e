package com.mailrelay.tracking;

import org.apache.camel.LoggingLevel;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.springframework.stereotype.Component;

/**
 * Errors of the public tracking and unsubscribe endpoints: a link that is not ours is a plain 404
 * (recording nothing); anything else a 503, and the client may try again.
 */
@Component
public class TrackingErrorConfiguration extends RouteConfigurationBuilder {

    public static final String ID = "tracking-errors";

    @Override
    public void configuration() {
        routeConfiguration(ID)
                .onException(LinkNotFoundException.class).handled(true)
                    .log(LoggingLevel.INFO, "${header.CamelHttpMethod} ${header.CamelHttpPath}"
                            + " answered 404: ${exception.message}")
                    .bean("trackingResponses", "plain(*, 404, 'not found')")
                .end()
                .onException(Exception.class).handled(true)
                    .log(LoggingLevel.ERROR, "${header.CamelHttpMethod} ${header.CamelHttpPath}"
                            + " failed: ${exception.stacktrace}")
                    .bean("trackingResponses", "plain(*, 503, 'temporarily unavailable, try again later')")
                    .setHeader("Retry-After", constant("5"))
                .end();
    }
}
