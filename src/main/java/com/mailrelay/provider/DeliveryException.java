package com.mailrelay.provider;

import java.time.Duration;

/**
 * A provider did not take the message. {@link #code()} is the SMTP reply code (or HTTP status)
 * when the provider answered, 0 when it could not be reached.
 */
public abstract class DeliveryException extends RuntimeException {

    private final String providerId;
    private final int code;
    private final Duration retryAfter;

    protected DeliveryException(String providerId, int code, String reply, Throwable cause) {
        this(providerId, code, reply, null, cause);
    }

    protected DeliveryException(String providerId, int code, String reply, Duration retryAfter, Throwable cause) {
        super(reply, cause);
        this.providerId = providerId;
        this.code = code;
        this.retryAfter = retryAfter;
    }

    public String providerId() {
        return providerId;
    }

    public int code() {
        return code;
    }

    /**
     * How long the provider asked to be left alone (HTTP {@code Retry-After}, or the time until a
     * quota window opens): the next attempt is not made sooner. Null when it said nothing.
     */
    public Duration retryAfter() {
        return retryAfter;
    }

    /**
     * Whether this failure uses up one of the message's attempts. Failures that say nothing about
     * the message — the relay's own provider set-up refused, a quota reached — do not.
     */
    public boolean countsAsAttempt() {
        return true;
    }

    /** The provider's reply (or what went wrong reaching it), as stored with the message. */
    public String reply() {
        return getMessage();
    }
}
