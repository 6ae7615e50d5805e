package com.mailrelay.provider;

import java.util.List;

/** The provider refused this message for good (SMTP 5xx, HTTP 4xx but 429): no failover, no retry. */
public class PermanentDeliveryException extends DeliveryException {

    private final List<String> refusedRecipients;

    public PermanentDeliveryException(String providerId, int code, String reply, Throwable cause) {
        this(providerId, code, reply, List.of(), cause);
    }

    /** @param refusedRecipients the recipients the provider named as refused; empty when it refused the whole message */
    public PermanentDeliveryException(String providerId, int code, String reply, List<String> refusedRecipients,
                                      Throwable cause) {
        super(providerId, code, reply, cause);
        this.refusedRecipients = List.copyOf(refusedRecipients);
    }

    public List<String> refusedRecipients() {
        return refusedRecipients;
    }
}
