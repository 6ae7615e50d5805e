package com.mailrelay.message;

import java.util.Map;

/**
 * A request the relay refuses for a reason of the request's own, carrying its answer: the status,
 * error code and extra headers of the API's reply, and the SMTP reply. Routes map it once
 * (api.RestErrorConfiguration; ingress.smtp's configuration smtp-replies) instead of a case per
 * class.
 */
public abstract class Refusal extends RuntimeException {

    protected Refusal(String message) {
        super(message);
    }

    protected Refusal(String message, Throwable cause) {
        super(message, cause);
    }

    /** The HTTP status of the API's reply. */
    public abstract int status();

    /** The {@code error} code of the API's reply body, e.g. {@code rate_limited}. */
    public abstract String code();

    /** Headers of the API's reply besides the body's own. */
    public Map<String, String> headers() {
        return Map.of();
    }

    /** The SMTP reply code: a refusal of the message itself, not worth sending again, by default. */
    public int smtpCode() {
        return 554;
    }

    /** The RFC 3463 enhanced status code the SMTP reply starts with. */
    public String smtpStatus() {
        return "5.6.0";
    }
}
