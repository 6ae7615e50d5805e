package com.mailrelay.inbound;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

import com.mailrelay.config.RelayProperties;
import org.springframework.stereotype.Component;

/**
 * How fresh a provider's signature must be: its timestamp within relay.inbound.max-age of now,
 * either way, so that a captured request cannot be posted again later.
 */
@Component
public class SignatureWindow {

    private final Clock clock;
    private final Duration maxAge;

    public SignatureWindow(Clock clock, RelayProperties properties) {
        this.clock = clock;
        this.maxAge = properties.inbound().maxAge();
    }

    /** The instant of a signature timestamp (seconds since the epoch), if it is within the window. */
    public Instant check(String epochSeconds) {
        long seconds;
        try {
            seconds = Long.parseLong(epochSeconds.trim());
        } catch (NumberFormatException e) {
            throw new InvalidSignatureException("the signature timestamp is not a number of seconds");
        }
        Instant signedAt = Instant.ofEpochSecond(seconds);
        Duration age = Duration.between(signedAt, clock.instant()).abs();
        if (age.compareTo(maxAge) > 0) {
            throw new InvalidSignatureException("the signature timestamp is " + age.toSeconds()
                    + " s away from now, more than the " + maxAge.toSeconds() + " s allowed");
        }
        return signedAt;
    }

    public Instant earliestAccepted() {
        return clock.instant().minus(maxAge);
    }
}
