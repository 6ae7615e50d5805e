package com.mailrelay.ingress.rest;

import com.mailrelay.message.Refusal;

/** A batch request with more messages than relay.limits.batch-messages: 413, nothing of it stored. */
public class BatchTooLargeException extends Refusal {

    public BatchTooLargeException(int given, int limit) {
        super("a batch holds at most " + limit + " messages (relay.limits.batch-messages); " + given + " given");
    }

    @Override
    public int status() {
        return 413;
    }

    @Override
    public String code() {
        return "batch_too_large";
    }
}
