package com.mailrelay.ingress.rest;

import com.mailrelay.message.Refusal;

/**
 * Batch sends with {@code relay.queue: kafka}: 501. They store all their messages in one database
 * transaction, which the Kafka queue mode does not write at accept; its messages go one request each.
 */
public class BatchUnavailableException extends Refusal {

    public BatchUnavailableException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 501;
    }

    @Override
    public String code() {
        return "not_implemented";
    }
}
