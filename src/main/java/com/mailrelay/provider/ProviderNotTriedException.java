package com.mailrelay.provider;

import java.time.Duration;

/**
 * The provider was not tried: its circuit breaker is open (after failures, or at once after a
 * configuration fault). The chain moves on; a message that finds every provider of its chain
 * open waits — until about when the breakers let a trial call through — without using an attempt,
 * so that an outage or a wrong key cannot exhaust the retries of mail that was never sent.
 */
public class ProviderNotTriedException extends TransientDeliveryException {

    public ProviderNotTriedException(String providerId, String reply, Duration retryAfter, Throwable cause) {
        super(providerId, 0, reply, retryAfter, cause);
    }

    @Override
    public boolean countsAsAttempt() {
        return false;
    }
}
