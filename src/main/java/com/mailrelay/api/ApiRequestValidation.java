package com.mailrelay.api;

import java.util.Arrays;
import java.util.Locale;

import jakarta.servlet.http.HttpServletRequest;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.springboot.PlatformHttpMessage;
import org.apache.camel.spi.RestClientRequestValidator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The REST DSL's client request validation, answered in the API's one error shape. Each REST verb
 * that takes a body declares what it takes ({@code consumes(..)}) and turns the validation on
 * ({@code clientRequestValidation(true)}); Camel's REST binding then calls this validator (the
 * one {@link RestClientRequestValidator} in the registry) before the verb's route runs. On Spring
 * Boot, Spring MVC matches the same {@code consumes} first ({@link MediaTypeErrors}); this is the
 * check that belongs to the routes themselves.
 * <p>
 * Camel's default validator would answer in its own shape (a plain-text body, the request's
 * headers echoed back), let a body without a Content-Type through, match media types by substring,
 * and parse JSON bodies itself, which would pre-empt the field errors of the route's own parser.
 * This one checks only the media type: a body whose type is not one the verb consumes (as Spring
 * matches them: {@code application/*+json} takes {@code application/merge-patch+json}), or has none, is a 415 {@link ApiError} that stores nothing.
 * What a client accepts is left to {@code produces} (406 in {@link MediaTypeErrors}).
 */
@Component
public class ApiRequestValidation implements RestClientRequestValidator {

    private static final Logger log = LoggerFactory.getLogger(ApiRequestValidation.class);

    /** What a verb with a JSON body consumes: JSON, and the JSON-based types ({@code application/merge-patch+json}). */
    public static final String JSON = "application/json,application/*+json";

    /** The sentence of every 415, here and in {@link ApiRequestFilter}. */
    static final String UNSUPPORTED = "send the request body as JSON with 'Content-Type: application/json' "
            + "(route files as 'Content-Type: application/yaml', unsubscribe requests as a form)";

    private final RestResponses responses;

    public ApiRequestValidation(RestResponses responses) {
        this.responses = responses;
    }

    @Override
    public ValidationError validate(Exchange exchange, ValidationContext validation) {
        if (validation.consumes() == null || !hasBody(exchange)) {
            return null;
        }
        String contentType = exchange.getMessage().getHeader(Exchange.CONTENT_TYPE, String.class);
        if (consumes(validation.consumes(), mediaType(contentType))) {
            return null;
        }
        log.info("{} {} rejected with 415: Content-Type {}", exchange.getMessage().getHeader(Exchange.HTTP_METHOD),
                exchange.getMessage().getHeader(Exchange.HTTP_URI), contentType);
        // The binding sets the status and this body; the response's own headers are set here.
        responses.respond(exchange, 415, new ApiError("unsupported_media_type", UNSUPPORTED));
        return new ValidationError(415, exchange.getMessage().getBody(String.class));
    }

    /** The media type of a Content-Type header, lower case, without its parameters; null if none. */
    static String mediaType(String contentType) {
        if (contentType == null || contentType.isBlank()) {
            return null;
        }
        return contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
    }

    /** Whether one of the declared types is this one; {@code application/*+json} stands for every {@code +json} type. */
    private static boolean consumes(String consumes, String mediaType) {
        if (mediaType == null) {
            return false;
        }
        return Arrays.stream(consumes.split(","))
                .map(type -> type.trim().toLowerCase(Locale.ROOT))
                .anyMatch(type -> type.equals(mediaType) || suffixMatch(type, mediaType));
    }

    private static boolean suffixMatch(String pattern, String mediaType) {
        int wildcard = pattern.indexOf("/*+");
        return wildcard > 0 && mediaType.startsWith(pattern.substring(0, wildcard + 1))
                && mediaType.endsWith(pattern.substring(wildcard + 2));
    }

    /** As the filter judges it, on the servlet request: a declared length over zero, or a chunked body. */
    private static boolean hasBody(Exchange exchange) {
        if (exchange.getMessage() instanceof PlatformHttpMessage http) {
            HttpServletRequest request = http.getRequest();
            return request.getContentLengthLong() > 0
                    || "chunked".equalsIgnoreCase(request.getHeader("Transfer-Encoding"));
        }
        return exchange.getMessage().getBody() != null;
    }
}
