package com.mailrelay.ingress.rest;

import com.mailrelay.accept.IdempotencyConflictException;
import com.mailrelay.accept.MessageTooLargeException;
import com.mailrelay.accept.UnreadableMessageException;
import com.mailrelay.accept.ValidationException;
import com.mailrelay.inbound.InboundEndpointNotFoundException;
import com.mailrelay.inbound.InvalidSignatureException;
import com.mailrelay.ratelimit.RateLimitedException;
import com.mailrelay.workspace.UnauthorizedException;
import org.apache.camel.builder.RouteConfigurationBuilder;
import org.springframework.stereotype.Component;

/** Every API error, mapped to its status once. Anything unexpected is a 503: nothing was stored. */
@Component
public class RestErrorConfiguration extends RouteConfigurationBuilder {

    public static final String ID = "rest-errors";

    @Override
    public void configuration() {
        routeConfiguration(ID)
                .onException(UnauthorizedException.class).handled(true)
                    .bean("restResponses", "error(*, 401, unauthorized)")
                    .setHeader("WWW-Authenticate", constant("Bearer"))
                .end()
                .onException(InvalidSignatureException.class).handled(true)
                    .bean("restResponses", "error(*, 401, invalid_signature)")
                .end()
                .onException(InboundEndpointNotFoundException.class).handled(true)
                    .bean("restResponses", "error(*, 404, not_found)")
                .end()
                .onException(ValidationException.class).handled(true)
                    .bean("restResponses", "error(*, 400, invalid_request)")
                .end()
                .onException(MessageTooLargeException.class).handled(true)
                    .bean("restResponses", "error(*, 413, message_too_large)")
                .end()
                // A chunked body cut at its limit while the route read it; the rest of it is never read.
                .onException(BodyTooLargeException.class).handled(true)
                    .bean("restResponses", "error(*, 413, message_too_large)")
                    .setHeader("Connection", constant("close"))
                .end()
                .onException(RateLimitedException.class).handled(true)
                    .bean("restResponses", "error(*, 429, rate_limited)")
                .end()
                .onException(UnreadableMessageException.class).handled(true)
                    .bean("restResponses", "error(*, 422, unreadable_message)")
                .end()
                .onException(IdempotencyConflictException.class).handled(true)
                    .bean("restResponses", "error(*, 422, idempotency_key_reused)")
                .end()
                .onException(Exception.class).handled(true)
                    .bean("restResponses", "error(*, 503, unavailable)")
                    .setHeader("Retry-After", constant("5"))
                .end();
    }
}
