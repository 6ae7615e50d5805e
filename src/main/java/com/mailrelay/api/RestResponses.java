package com.mailrelay.api;

import java.util.Map;

import com.mailrelay.message.Json;
import com.mailrelay.message.Refusal;
import com.mailrelay.message.ValidationException;
import org.apache.camel.Exchange;
import org.apache.camel.util.ObjectHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * Writes API responses: JSON bodies ({@link Json#writeApi}), status codes, and no request header
 * echoed back. Routes end in one of its steps, e.g. {@code .bean("restResponses", "reply(*, 200)")},
 * so that a route dump shows what each branch answers.
 */
@Component("restResponses")
public class RestResponses {

    private static final Logger log = LoggerFactory.getLogger(RestResponses.class);

    /** Replaces the request's headers (which platform-http would echo back) with the response's own. */
    public void respond(Exchange exchange, int status, Object body) {
        var message = exchange.getMessage();
        message.removeHeaders("*");
        message.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        message.setHeader(Exchange.CONTENT_TYPE, "application/json");
        message.setBody(Json.writeApi(body));
    }

    /** Answers with the message body (a view, a record, an {@link ApiError}) and this status. */
    public void reply(Exchange exchange, int status) {
        respond(exchange, status, exchange.getMessage().getBody());
    }

    /** Answers 200 with the body, a list, under this name: {@code {"recipients": [...]}}. */
    public void listing(Exchange exchange, String name) {
        respond(exchange, 200, Map.of(name, exchange.getMessage().getBody()));
    }

    /** Answers with the refusal the handled exception is: its own status, code and headers. */
    public void refused(Exchange exchange) {
        Refusal refusal = ObjectHelper.getException(Refusal.class,
                exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class));
        answer(exchange, refusal.status(), refusal.code(), refusal);
        refusal.headers().forEach(exchange.getMessage()::setHeader);
    }

    /** Answers with the error the handled exception stands for, and logs it. */
    public void error(Exchange exchange, int status, String code) {
        Throwable failure = exchange.getProperty(Exchange.EXCEPTION_CAUGHT, Throwable.class);
        // A body cut while the HTTP binding read it arrives wrapped in the conversion's exception.
        BodyTooLargeException tooLarge = ObjectHelper.getException(BodyTooLargeException.class, failure);
        answer(exchange, status, code, tooLarge != null ? tooLarge : failure);
    }

    private void answer(Exchange exchange, int status, String code, Throwable failure) {
        Object method = exchange.getMessage().getHeader(Exchange.HTTP_METHOD);
        Object uri = exchange.getMessage().getHeader(Exchange.HTTP_URI);
        ApiError body;
        if (failure instanceof ValidationException invalid) {
            body = new ApiError(code, "the request has " + invalid.errors().size() + " invalid field(s)",
                    invalid.errors());
        } else if (status >= 500 && !(failure instanceof Refusal)) {
            body = new ApiError(code, "the request could not be completed (nothing was stored); try again later");
        } else {
            // A refusal's message is written for the client, a 5xx one too (501: what the relay does not do).
            body = new ApiError(code, failure.getMessage());
        }
        if (status >= 500 && !(failure instanceof Refusal)) {
            log.error("{} {} failed", method, uri, failure);
        } else {
            log.info("{} {} rejected with {}: {}", method, uri, status, failure.getMessage());
        }
        respond(exchange, status, body);
    }
}
