package com.mailrelay.console;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.mailrelay.config.RelayProperties;
import org.springframework.stereotype.Component;

/**
 * Failed console sign-ins per client address: at most relay.console.sign-in-attempts within
 * relay.console.sign-in-window, after which the address is refused (429) until its oldest failure
 * leaves the window, whether the next key is right or not. A successful sign-in clears the count.
 */
@Component
public class SignInThrottle {

    private final Clock clock;
    private final int attempts;
    private final Duration window;
    private final Cache<String, Deque<Instant>> failures;

    public SignInThrottle(Clock clock, RelayProperties properties) {
        this.clock = clock;
        this.attempts = properties.console().signInAttempts();
        this.window = properties.console().signInWindow();
        this.failures = Caffeine.newBuilder().expireAfterWrite(window).maximumSize(100_000).build();
    }

    /** Seconds until this address may try again, or 0 when it may now. */
    public long retryAfterSeconds(String address) {
        Deque<Instant> seen = failures.getIfPresent(address);
        if (seen == null) {
            return 0;
        }
        synchronized (seen) {
            Instant now = clock.instant();
            while (!seen.isEmpty() && !seen.peekFirst().plus(window).isAfter(now)) {
                seen.pollFirst();
            }
            if (seen.size() < attempts) {
                return 0;
            }
            return Math.max(1, Duration.between(now, seen.peekFirst().plus(window)).toSeconds() + 1);
        }
    }

    public void failed(String address) {
        Deque<Instant> seen = failures.get(address, a -> new ArrayDeque<>());
        synchronized (seen) {
            seen.addLast(clock.instant());
            while (seen.size() > attempts) {
                seen.pollFirst();
            }
        }
        failures.put(address, seen);
    }

    public void succeeded(String address) {
        failures.invalidate(address);
    }
}
