package com.mailrelay.provider;

import java.time.Duration;
import java.time.Instant;

import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;

/**
 * What the providers of one delivery attempt asked of the next attempt. A failover chain runs
 * each provider on a copy of the exchange, so the last failure alone cannot tell when the message
 * is worth trying again: this holder (exchange property {@value RelayHeaders#CHAIN_WAITS}, put on
 * the exchange before dispatch and shared by reference with every copy) records each provider's
 * failure. The next attempt waits for the earliest time a provider named (Retry-After, a quota
 * window, an open breaker) only if every provider tried named one; a provider that failed without
 * naming a time may take the message at the next backoff.
 */
public final class ChainWaits {

    private Instant earliest;
    private boolean anyWithoutWait;

    /** Records a provider's failure on the attempt's holder, if the exchange has one. */
    public static void record(Exchange exchange, DeliveryException failure) {
        ChainWaits waits = exchange.getProperty(RelayHeaders.CHAIN_WAITS, ChainWaits.class);
        if (waits != null) {
            waits.add(failure, Instant.now());
        }
    }

    /**
     * The earliest time any provider of the attempt named so far (whether or not all did): a quota
     * refusal carries it, so that its own retryAfter is the first window that opens in the chain.
     */
    public synchronized Instant earliest() {
        return earliest;
    }

    public synchronized void add(DeliveryException failure, Instant now) {
        if (failure.retryAfter() == null) {
            anyWithoutWait = true;
            return;
        }
        Instant at = now.plus(failure.retryAfter());
        if (earliest == null || at.isBefore(earliest)) {
            earliest = at;
        }
    }

    /**
     * How long the message should wait at least: until the earliest time a provider named, if every
     * provider tried named one; null if one of them did not (or none was recorded).
     */
    public synchronized Duration wait(Instant now) {
        if (anyWithoutWait || earliest == null) {
            return null;
        }
        Duration wait = Duration.between(now, earliest);
        return wait.isNegative() ? Duration.ZERO : wait;
    }
}
