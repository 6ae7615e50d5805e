package com.mailrelay.tracking;

import com.mailrelay.message.EventType;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.tracking.Engagements.Client;
import com.mailrelay.tracking.TrackingTokens.Claim;
import com.mailrelay.tracking.TrackingTokens.Kind;
import jakarta.servlet.http.HttpServletRequest;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.apache.camel.component.platform.http.springboot.PlatformHttpMessage;
import org.springframework.stereotype.Component;

/**
 * The public endpoints that links in delivered mail point to. No API key: the signed token in the
 * path is the credential, and any token that does not verify is a 404 that records nothing; one
 * that verifies but expired is a 410 page that records nothing.
 * <ul>
 *   <li>{@code GET /t/o/{token}.gif} — the open pixel: a 1×1 GIF, never cached, an {@code open} event
 *       (repeats within the window counted on it, see {@link Engagements})</li>
 *   <li>{@code GET /t/c/{token}} — a click: 302 to the URL inside the token, a {@code click} event (likewise)</li>
 *   <li>{@code GET /u/{token}} — a page asking to confirm (link scanners fetch links; a GET never unsubscribes)</li>
 *   <li>{@code POST /u/{token}} — unsubscribes (RFC 8058 one-click, or the page's button), {@code unsub} event</li>
 * </ul>
 * Events are committed when recorded; the wireTap after that hands them on at once
 * ({@code events-written}; the response that follows drops the header it reads).
 */
@Component
public class TrackingRoutes extends RouteBuilder {

    static final String CLAIM = "relayTrackingClaim";
    static final String CLIENT = "relayTrackingClient";
    static final String WORKSPACE = "relayTrackingWorkspace";

    private final TrackingTokens tokens;
    private final Engagements engagements;
    private final TrackingResponses responses;

    public TrackingRoutes(TrackingTokens tokens, Engagements engagements, TrackingResponses responses) {
        this.tokens = tokens;
        this.engagements = engagements;
        this.responses = responses;
    }

    @Override
    public void configure() {
        rest("/t")
                .get("/o/{pixel}").id("rest-track-open")
                    .description("The open pixel of delivered mail (no key: the signed token is the credential); "
                            + "records an open")
                    .param().name("pixel").type(RestParamType.path).required(true).dataType("string")
                        .description("the signed token, then .gif").endParam()
                    .responseMessage().code(200).message("a 1x1 GIF, never cached").endResponseMessage()
                    .responseMessage().code(404).message("the token does not verify (nothing recorded)").endResponseMessage()
                    .responseMessage().code(410).message("the link expired (nothing recorded)").endResponseMessage()
                    .to("direct:track-open")
                .get("/c/{token}").id("rest-track-click")
                    .description("A tracked link of delivered mail (no key: the signed token is the credential); "
                            + "records a click and redirects to the link's URL")
                    .param().name("token").type(RestParamType.path).required(true).dataType("string")
                        .description("the signed token, which holds the target URL").endParam()
                    .responseMessage().code(302).message("to the link's URL (Location)").endResponseMessage()
                    .responseMessage().code(404).message("the token does not verify (nothing recorded)").endResponseMessage()
                    .responseMessage().code(410).message("the link expired (nothing recorded)").endResponseMessage()
                    .to("direct:track-click");
        rest("/u")
                .get("/{token}").id("rest-unsubscribe-page")
                    .description("The unsubscribe page of delivered mail: asks to confirm (a GET never unsubscribes, "
                            + "as link scanners fetch links)")
                    .param().name("token").type(RestParamType.path).required(true).dataType("string")
                        .description("the signed unsubscribe token").endParam()
                    .responseMessage().code(200).message("an HTML page with the confirm button").endResponseMessage()
                    .responseMessage().code(404).message("the token does not verify").endResponseMessage()
                    .responseMessage().code(410).message("the link expired").endResponseMessage()
                    .to("direct:unsubscribe-page")
                // A form, as RFC 8058 has mail clients send it (the page's button sends one too).
                .post("/{token}").id("rest-unsubscribe")
                    .consumes("application/x-www-form-urlencoded,multipart/form-data").clientRequestValidation(true)
                    .description("Unsubscribes the recipient (RFC 8058 one-click, or the page's button); records an "
                            + "unsub event")
                    .param().name("token").type(RestParamType.path).required(true).dataType("string")
                        .description("the signed unsubscribe token").endParam()
                    .param().name("body").type(RestParamType.body).required(false).dataType("object")
                        .description("List-Unsubscribe=One-Click, as RFC 8058 has it (its content is not read)").endParam()
                    .responseMessage().code(200).message("an HTML page: unsubscribed").endResponseMessage()
                    .responseMessage().code(404).message("the token does not verify (nothing recorded)").endResponseMessage()
                    .responseMessage().code(410).message("the link expired (nothing recorded)").endResponseMessage()
                    .to("direct:unsubscribe");

        from("direct:track-open").routeId("track-open").routeConfigurationId(TrackingErrorConfiguration.ID)
                .process(e -> verify(e, pixelToken(e), Kind.OPEN))
                .process(this::current)
                .process(e -> record(e, EventType.OPEN))
                .setHeader(RelayHeaders.WORKSPACE, exchangeProperty(WORKSPACE)).wireTap("direct:events-written")
                .process(responses::pixel);

        from("direct:track-click").routeId("track-click").routeConfigurationId(TrackingErrorConfiguration.ID)
                .process(e -> verify(e, e.getMessage().getHeader("token", String.class), Kind.CLICK))
                .process(this::current)
                .process(e -> record(e, EventType.CLICK))
                .setHeader(RelayHeaders.WORKSPACE, exchangeProperty(WORKSPACE)).wireTap("direct:events-written")
                // The target is the token's; query parameters (?url=...) are never read.
                .process(e -> responses.redirect(e, claim(e).url()));

        from("direct:unsubscribe-page").routeId("unsubscribe-page").routeConfigurationId(TrackingErrorConfiguration.ID)
                .process(e -> verify(e, e.getMessage().getHeader("token", String.class), Kind.UNSUBSCRIBE))
                .process(this::current)
                .process(e -> responses.html(e, 200, UnsubscribePages.confirm(claim(e).recipient())));

        from("direct:unsubscribe").routeId("unsubscribe").routeConfigurationId(TrackingErrorConfiguration.ID)
                .process(e -> verify(e, e.getMessage().getHeader("token", String.class), Kind.UNSUBSCRIBE))
                .process(this::current)
                .process(e -> engagements.unsubscribe(claim(e), e.getProperty(WORKSPACE, String.class),
                        e.getProperty(CLIENT, Client.class)))
                .setHeader(RelayHeaders.WORKSPACE, exchangeProperty(WORKSPACE)).wireTap("direct:events-written")
                .process(e -> responses.html(e, 200, UnsubscribePages.done(claim(e).recipient())));
    }

    /** The pixel's path ends in ".gif", which is not part of the token. */
    private static String pixelToken(Exchange exchange) {
        String file = exchange.getMessage().getHeader("pixel", String.class);
        if (file == null || !file.endsWith(".gif")) {
            throw new LinkNotFoundException("not a pixel path");
        }
        return file.substring(0, file.length() - ".gif".length());
    }

    private void verify(Exchange exchange, String token, Kind kind) {
        Claim claim = tokens.verify(token, kind)
                .orElseThrow(() -> new LinkNotFoundException("token does not verify as " + kind));
        exchange.setProperty(CLAIM, claim);
        exchange.setProperty(CLIENT, client(exchange));
    }

    /** The link's message exists and the link has not expired (else 404 / 410): its workspace. */
    private void current(Exchange exchange) {
        exchange.setProperty(WORKSPACE, engagements.workspace(claim(exchange)));
    }

    private void record(Exchange exchange, EventType type) {
        engagements.record(claim(exchange), exchange.getProperty(WORKSPACE, String.class), type,
                exchange.getProperty(CLIENT, Client.class));
    }

    private static Claim claim(Exchange exchange) {
        return exchange.getProperty(CLAIM, Claim.class);
    }

    /** The client's address (behind a proxy, set server.forward-headers-strategy) and user agent. */
    private static Client client(Exchange exchange) {
        if (exchange.getIn() instanceof PlatformHttpMessage http) {
            HttpServletRequest request = http.getRequest();
            return new Client(request.getRemoteAddr(), request.getHeader("User-Agent"));
        }
        return new Client(null, exchange.getMessage().getHeader("User-Agent", String.class));
    }
}
