package com.mailrelay.message;

import java.time.Instant;

/**
 * A message accepted over a soft limit: it is held QUEUED until {@code until}, the start of the
 * first window in which every soft limit had room (and in which it is counted), and gets one
 * deferral event saying so. Made by ratelimit/RateLimits at accept, carried to the row by either
 * queue mode.
 *
 * @param until  when the message may be sent
 * @param reason the limit that held it, in words (the deferral event's reply)
 */
public record LimitHold(Instant until, String reason) {
}
