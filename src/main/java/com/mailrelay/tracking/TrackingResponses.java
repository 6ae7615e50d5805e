package com.mailrelay.tracking;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import jakarta.servlet.http.HttpServletResponse;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.platform.http.springboot.PlatformHttpMessage;
import org.springframework.stereotype.Component;

/** Answers of the public endpoints: the pixel, redirects, small HTML pages, plain errors. None is cached. */
@Component("trackingResponses")
public class TrackingResponses {

    /** A transparent 1×1 GIF (43 bytes). */
    private static final byte[] PIXEL = Base64.getDecoder()
            .decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==");

    public void pixel(Exchange exchange) {
        Message message = start(exchange, 200);
        message.setHeader(Exchange.CONTENT_TYPE, "image/gif");
        message.setBody(PIXEL);
    }

    /** A redirect to the target a verified token named (never to anything from the query). */
    public void redirect(Exchange exchange, String location) {
        Message message = start(exchange, 302);
        message.setHeader("Location", location);
        message.setBody(null);
    }

    public void html(Exchange exchange, int status, String html) {
        Message message = start(exchange, status);
        message.setHeader(Exchange.CONTENT_TYPE, "text/html; charset=utf-8");
        message.setHeader("Referrer-Policy", "no-referrer");
        message.setHeader("X-Robots-Tag", "noindex");
        message.setBody(html.getBytes(StandardCharsets.UTF_8));
    }

    /** 410 Gone: a link of ours whose token expired. */
    public void expired(Exchange exchange) {
        html(exchange, 410, UnsubscribePages.expired());
    }

    public void plain(Exchange exchange, int status, String text) {
        Message message = start(exchange, status);
        message.setHeader(Exchange.CONTENT_TYPE, "text/plain; charset=utf-8");
        message.setBody(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Drops the request's headers (platform-http would echo them) and forbids caching at every level. */
    private static Message start(Exchange exchange, int status) {
        // Camel's HTTP header filter drops Cache-Control and Pragma from a message's headers, so
        // they go on the servlet response itself, which Camel then completes.
        if (exchange.getIn() instanceof PlatformHttpMessage http) {
            HttpServletResponse response = http.getResponse();
            response.setHeader("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0");
            response.setHeader("Pragma", "no-cache");
            response.setHeader("Expires", "0");
        }
        Message message = exchange.getMessage();
        message.removeHeaders("*");
        message.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        return message;
    }
}
