package com.mailrelay.provider;

/** Worth trying again, here or at the next provider: 4xx replies, timeouts, refused connections, open circuits. */
public class TransientDeliveryException extends DeliveryException {
    public TransientDeliveryException(String providerId, int code, String reply, Throwable cause) {
        super(providerId, code, reply, cause);
    }
}
