package com.mailrelay.message;

/** An Idempotency-Key reused with a different request body: HTTP 422. */
public class IdempotencyConflictException extends Refusal {
    public IdempotencyConflictException(String key) {
        super("Idempotency-Key '" + key + "' was already used with a different request");
    }

    @Override
    public int status() {
        return 422;
    }

    @Override
    public String code() {
        return "idempotency_key_reused";
    }
}
