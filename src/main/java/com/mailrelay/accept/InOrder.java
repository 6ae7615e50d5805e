package com.mailrelay.accept;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * Collects what each part of a split made, in their order, into one list; the first part that
 * failed stands for them all, with its own exception (a 422 for a reused Idempotency-Key stays a
 * 422). Camel's stopOnException would wrap it in a CamelExchangeException; the parts after a
 * failure only read, and what they make is dropped with the failure.
 */
public class InOrder implements AggregationStrategy {

    @Override
    @SuppressWarnings("unchecked")
    public Exchange aggregate(Exchange collected, Exchange next) {
        if (collected == null) {
            List<Object> all = new ArrayList<>();
            if (next.getException() == null) {
                all.add(next.getMessage().getBody());
            }
            next.getMessage().setBody(all);
            return next;
        }
        if (collected.getException() == null) {
            if (next.getException() != null) {
                collected.setException(next.getException());
            } else {
                collected.getMessage().getBody(List.class).add(next.getMessage().getBody());
            }
        }
        return collected;
    }
}
