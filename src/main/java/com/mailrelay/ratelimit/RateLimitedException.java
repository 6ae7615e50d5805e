package com.mailrelay.ratelimit;

import com.mailrelay.queue.RefusedWork;

/** A submission over its workspace's or user's limit; answered 429 (REST) or 451 4.7.1 (SMTP). */
public class RateLimitedException extends RefusedWork {

    private final long retryAfterSeconds;

    public RateLimitedException(String message, long retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    /** Seconds until the current window ends and the limit allows messages again. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
