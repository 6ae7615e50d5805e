package com.mailrelay.provider;

/**
 * A provider did not take the message. {@link #code()} is the SMTP reply code (or HTTP status)
 * when the provider answered, 0 when it could not be reached.
 */
public abstract class DeliveryException extends RuntimeException {

    private final String providerId;
    private final int code;

    protected DeliveryException(String providerId, int code, String reply, Throwable cause) {
        super(reply, cause);
        this.providerId = providerId;
        this.code = code;
    }

    public String providerId() {
        return providerId;
    }

    public int code() {
        return code;
    }

    /** The provider's reply (or what went wrong reaching it), as stored with the message. */
    public String reply() {
        return getMessage();
    }
}
