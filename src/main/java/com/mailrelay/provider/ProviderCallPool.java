package com.mailrelay.provider;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads provider calls run on, so that the circuit breaker's time limiter can give up on a
 * call at its deadline and free the worker. Unbounded (cached, idle threads end after a minute):
 * a call past its deadline may keep its thread until its socket times out, and a bounded pool
 * would then make the next calls wait for threads instead of for the upstream. Without a pool of
 * its own the limiter would use the common fork-join pool, which is not meant for blocking I/O.
 *
 * <p>Bound in Camel's registry only (not a Spring bean: an Executor bean would replace Spring
 * Boot's own task executor, which the REST engine needs).
 */
final class ProviderCallPool {

    static final String BEAN = "providerCalls";

    private ProviderCallPool() {
    }

    static ExecutorService create() {
        AtomicInteger counter = new AtomicInteger();
        return Executors.newCachedThreadPool(task -> {
            Thread thread = new Thread(task, "provider-call-" + counter.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }
}
