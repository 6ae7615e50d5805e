package com.mailrelay.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.provider.PermanentDeliveryException;
import org.springframework.stereotype.Component;

/**
 * Decides between "try again later" and "dead letter", and when "later" is. The schedule is
 * stored (next_attempt_at), never slept on, so it survives restarts and is shared by instances.
 */
@Component
public class RetryPolicy {

    private final RelayProperties.Retry retry;
    private final Clock clock;

    public RetryPolicy(RelayProperties properties, Clock clock) {
        this.retry = properties.retry();
        this.clock = clock;
    }

    /** Transient failures are retried while attempts and age allow; everything else is final. */
    public boolean shouldRetry(ClaimedMessage message, Throwable failure) {
        return !(failure instanceof PermanentDeliveryException) && !exhausted(message);
    }

    public boolean exhausted(ClaimedMessage message) {
        return message.attempt() >= retry.maxAttempts()
                || Duration.between(message.queuedAt(), clock.instant()).compareTo(retry.maxAge()) >= 0;
    }

    /** initial × multiplier^(attempt−1), capped, then spread by ± jitter. */
    public Instant nextAttemptAt(int attempt) {
        double base = retry.initialBackoff().toMillis() * Math.pow(retry.multiplier(), attempt - 1);
        double capped = Math.min(base, retry.maxBackoff().toMillis());
        double spread = 1 + retry.jitter() * (2 * ThreadLocalRandom.current().nextDouble() - 1);
        return clock.instant().plusMillis(Math.round(capped * spread));
    }
}
