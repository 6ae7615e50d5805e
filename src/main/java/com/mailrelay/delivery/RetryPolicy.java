package com.mailrelay.delivery;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.provider.ChainWaits;
import com.mailrelay.provider.DeliveryException;
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

    /**
     * Transient failures are retried while attempts and age allow; everything else is final. A
     * failure that does not count as an attempt (a quota, the provider's set-up) is bounded by age
     * alone.
     */
    public boolean shouldRetry(ClaimedMessage message, Throwable failure) {
        if (failure instanceof PermanentDeliveryException) {
            return false;
        }
        if (failure instanceof DeliveryException delivery && !delivery.countsAsAttempt()) {
            return !tooOld(message);
        }
        return !exhausted(message);
    }

    private boolean tooOld(ClaimedMessage message) {
        return Duration.between(message.queuedAt(), clock.instant()).compareTo(retry.maxAge()) >= 0;
    }

    public boolean exhausted(ClaimedMessage message) {
        return message.attempt() >= retry.maxAttempts() || tooOld(message);
    }

    /**
     * When to try again after this failure: the backoff of the attempt, but never sooner than the
     * provider asked (Retry-After). A failure that did not count as an attempt and names a time (a
     * quota window opening) is tried again at that time.
     */
    public Instant nextAttemptAt(int attempt, DeliveryException failure) {
        return nextAttemptAt(attempt, failure, null);
    }

    /**
     * The same, for an attempt whose chain recorded what each provider tried asked ({@code waits},
     * null if unknown): the earliest time they named, but only if every one of them named a time.
     */
    public Instant nextAttemptAt(int attempt, DeliveryException failure, ChainWaits waits) {
        Duration wait = waits == null ? failure.retryAfter() : waits.wait(clock.instant());
        if (wait == null) {
            return nextAttemptAt(attempt);
        }
        Instant asked = clock.instant().plus(wait);
        if (!failure.countsAsAttempt()) {
            return asked;
        }
        Instant backoff = nextAttemptAt(attempt);
        return asked.isAfter(backoff) ? asked : backoff;
    }

    /** initial × multiplier^(attempt−1), capped, then spread by ± jitter. */
    public Instant nextAttemptAt(int attempt) {
        double base = retry.initialBackoff().toMillis() * Math.pow(retry.multiplier(), attempt - 1);
        double capped = Math.min(base, retry.maxBackoff().toMillis());
        double spread = 1 + retry.jitter() * (2 * ThreadLocalRandom.current().nextDouble() - 1);
        return clock.instant().plusMillis(Math.round(capped * spread));
    }
}
