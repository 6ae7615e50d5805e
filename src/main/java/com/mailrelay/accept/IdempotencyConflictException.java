package com.mailrelay.accept;

/** An Idempotency-Key reused with a different request body: HTTP 422. */
public class IdempotencyConflictException extends RuntimeException {
    public IdempotencyConflictException(String key) {
        super("Idempotency-Key '" + key + "' was already used with a different request");
    }
}
