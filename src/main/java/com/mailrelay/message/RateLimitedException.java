package com.mailrelay.message;

import java.util.Map;


/** A submission over its workspace's or user's limit; answered 429 (REST) or 451 4.7.1 (SMTP). */
public class RateLimitedException extends RefusedWork {

    private final long retryAfterSeconds;

    public RateLimitedException(String message, long retryAfterSeconds) {
        super(message);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    @Override
    public int status() {
        return 429;
    }

    @Override
    public String code() {
        return "rate_limited";
    }

    @Override
    public Map<String, String> headers() {
        return Map.of("Retry-After", Long.toString(retryAfterSeconds));
    }

    @Override
    public int smtpCode() {
        return 451;
    }

    @Override
    public String smtpStatus() {
        return "4.7.1";
    }

    /** Seconds until the current window ends and the limit allows messages again. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
