package com.mailrelay.provider;

import java.time.Duration;

/**
 * The provider refused the relay itself, not the message: its credentials (HTTP 401/403, SMTP
 * 530/535, an invalid-key error body), its account or its sender set-up. A fault of the provider's
 * configuration: the templates open its breaker at once (ProviderBreakers), the chain fails over,
 * and the message waits without using up an attempt.
 */
public class ProviderConfigurationException extends TransientDeliveryException {

    public ProviderConfigurationException(String providerId, int code, String reply, Throwable cause) {
        super(providerId, code, reply, cause);
    }

    /** @param retryAfter when the provider is worth trying again: its breaker's wait in open state */
    public ProviderConfigurationException(String providerId, int code, String reply, Duration retryAfter,
                                          Throwable cause) {
        super(providerId, code, reply, retryAfter, cause);
    }

    @Override
    public boolean countsAsAttempt() {
        return false;
    }
}
