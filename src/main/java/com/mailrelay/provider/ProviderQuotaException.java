package com.mailrelay.provider;

import java.time.Duration;

/**
 * The provider is at its quota: not tried, and not counted against its breaker (the quota step runs
 * before it). The chain moves on; when every provider of it is at quota the message is deferred
 * until the earliest of their windows opens, without using up an attempt.
 */
public class ProviderQuotaException extends TransientDeliveryException {

    /** @param opensIn how long until the provider's quota window that is full opens */
    public ProviderQuotaException(String providerId, String reply, Duration opensIn) {
        super(providerId, 0, reply, opensIn, null);
    }

    @Override
    public boolean countsAsAttempt() {
        return false;
    }
}
