package com.mailrelay.api;

import java.io.IOException;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.web.HttpMediaTypeNotAcceptableException;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * The REST DSL's {@code consumes}/{@code produces}, where Spring MVC checks them: platform-http
 * registers each REST verb as a Spring MVC mapping with its media types, so a request whose
 * Content-Type or Accept does not match is refused before Camel sees it — in Spring's error
 * shape, unless answered here in the API's one shape ({@link ApiError}). Camel's client request
 * validation ({@link ApiRequestValidation}) checks the Content-Type again in the REST binding, so
 * the rule holds on whatever HTTP engine runs the routes.
 */
@RestControllerAdvice
public class MediaTypeErrors {

    private static final Logger log = LoggerFactory.getLogger(MediaTypeErrors.class);

    @ExceptionHandler(HttpMediaTypeNotSupportedException.class)
    public void unsupported(HttpServletRequest request, HttpServletResponse response) throws IOException {
        log.info("{} {} rejected with 415: Content-Type {}", request.getMethod(), request.getRequestURI(),
                request.getContentType());
        ApiRequestFilter.write(response, HttpServletResponse.SC_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                ApiRequestValidation.UNSUPPORTED);
    }

    /** Written as it is, whatever the request accepts: the refusal itself must not be refused. */
    @ExceptionHandler(HttpMediaTypeNotAcceptableException.class)
    public void notAcceptable(HttpServletRequest request, HttpServletResponse response) throws IOException {
        log.info("{} {} rejected with 406: Accept {}", request.getMethod(), request.getRequestURI(),
                request.getHeader("Accept"));
        ApiRequestFilter.write(response, HttpServletResponse.SC_NOT_ACCEPTABLE, "not_acceptable",
                "this endpoint answers in JSON: accept 'application/json'");
    }
}
