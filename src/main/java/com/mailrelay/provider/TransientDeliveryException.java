package com.mailrelay.provider;

import java.time.Duration;

/** Worth trying again, here or at the next provider: 4xx replies, timeouts, refused connections, open circuits. */
public class TransientDeliveryException extends DeliveryException {

    public TransientDeliveryException(String providerId, int code, String reply, Throwable cause) {
        super(providerId, code, reply, cause);
    }

    /** @param retryAfter the earliest the provider wants to be tried again (null: no wish) */
    public TransientDeliveryException(String providerId, int code, String reply, Duration retryAfter, Throwable cause) {
        super(providerId, code, reply, retryAfter, cause);
    }
}
