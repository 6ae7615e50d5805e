package com.mailrelay.message;

import java.time.Instant;

/**
 * What one provider tried in a delivery attempt said (a row of {@code delivery_attempts}): a
 * failover chain tried three times is three of these, in the order they were tried. Here, below
 * the provider and store packages, because the first collects them and the second writes them.
 *
 * @param providerId null when no provider was reached (no route matched)
 * @param code       the SMTP reply code with its enhanced status code ("451 4.7.1") or the HTTP
 *                   status; null when nothing answered (a refused connection, a timeout, not tried)
 * @param reply      the SMTP reply lines, the HTTP status and the start of the body, or what went
 *                   wrong reaching the provider; for NOT_TRIED why the relay did not try
 */
public record DeliveryAttempt(String providerId, Outcome outcome, String code, String reply, int durationMs,
                              Instant startedAt) {

    /** How a try ended. */
    public enum Outcome {
        /** The provider took the message (for some recipients at least, after a partial delivery). */
        SENT,
        /** Worth trying again (4xx, 5xx of an HTTP API, timeouts, refused connections). */
        TRANSIENT,
        /** Refused for good (SMTP 5xx, HTTP 4xx): the attempt ended there. */
        PERMANENT,
        /** The relay did not call the provider: its breaker was open, its quota full, or no route matched. */
        NOT_TRIED
    }
}
