package com.mailrelay.ratelimit;

import org.apache.camel.Exchange;
import org.springframework.stereotype.Component;

/**
 * Provider quotas (per second, minute, hour and day), counted across instances, shared between
 * workspaces by weight. Called by every provider template before its circuit breaker.
 */
@Component("providerQuotas")
public class ProviderQuotas {

    /** Takes one send from each of the provider's quotas (0 = none), or throws ProviderQuotaException. */
    public void take(Exchange exchange, String providerId, int perSecond, int perMinute, int perHour, int perDay,
                     String weights) {
        // No quota counting yet: every provider is unlimited.
    }
}
