package com.mailrelay.provider;

/** The provider refused this message for good (SMTP 5xx, HTTP 4xx but 429): no failover, no retry. */
public class PermanentDeliveryException extends DeliveryException {
    public PermanentDeliveryException(String providerId, int code, String reply, Throwable cause) {
        super(providerId, code, reply, cause);
    }
}
