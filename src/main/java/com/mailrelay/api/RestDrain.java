package com.mailrelay.api;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.mailrelay.config.RelayProperties;
import jakarta.servlet.AsyncEvent;
import jakarta.servlet.AsyncListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.availability.AvailabilityChangeEvent;
import org.springframework.boot.availability.ReadinessState;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * REST's part of a graceful shutdown. The first lifecycle to stop (highest phase, before the web
 * server's graceful phase and before Camel, whose routes the requests in flight still need):
 * readiness goes DOWN (REFUSING_TRAFFIC), every new request is answered 503 with Retry-After by
 * {@link ApiRequestFilter}, and the requests already admitted complete — the stop waits for them,
 * at most relay.shutdown.drain-timeout. It also arms a watchdog that halts the process
 * relay.shutdown.force-exit-after after shutdown began, so that nothing can keep it alive.
 */
@Component
public class RestDrain implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(RestDrain.class);

    private final AtomicInteger inFlight = new AtomicInteger();
    private final Object lock = new Object();
    private final ApplicationEventPublisher events;
    private final Duration drainTimeout;
    private final Duration forceExitAfter;
    private final long retryAfterSeconds;
    private volatile boolean draining;
    private volatile boolean running;

    public RestDrain(RelayProperties properties, ApplicationEventPublisher events) {
        this.events = events;
        this.drainTimeout = properties.shutdown().drainTimeout();
        this.forceExitAfter = properties.shutdown().forceExitAfter();
        this.retryAfterSeconds = Math.max(1, properties.shutdown().retryAfter().toSeconds());
    }

    /** Counts a new request in, or refuses it (false) because the relay is draining. */
    boolean admit() {
        inFlight.incrementAndGet();
        if (draining) {
            done();
            return false;
        }
        return true;
    }

    void done() {
        if (inFlight.decrementAndGet() == 0 && draining) {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** Counts an asynchronous request out when its response is complete. */
    AsyncListener completionListener() {
        return new AsyncListener() {
            @Override
            public void onComplete(AsyncEvent event) {
                done();
            }

            @Override
            public void onTimeout(AsyncEvent event) {
            }

            @Override
            public void onError(AsyncEvent event) {
            }

            @Override
            public void onStartAsync(AsyncEvent event) throws IOException {
            }
        };
    }

    public boolean draining() {
        return draining;
    }

    @Override
    public void start() {
        running = true;
    }

    @Override
    public void stop() {
        drain();
    }

    @Override
    public void stop(Runnable callback) {
        Thread thread = new Thread(() -> {
            try {
                drain();
            } finally {
                callback.run();
            }
        }, "rest-drain");
        thread.setDaemon(true);
        thread.start();
    }

    private void drain() {
        armWatchdog();
        AvailabilityChangeEvent.publish(events, this, ReadinessState.REFUSING_TRAFFIC);
        draining = true;
        log.info("shutting down: readiness DOWN, new requests get 503; waiting up to {} for {} in flight",
                drainTimeout, inFlight.get());
        long deadline = System.nanoTime() + drainTimeout.toNanos();
        synchronized (lock) {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    log.warn("shutting down with {} request(s) still in flight after {}", inFlight.get(), drainTimeout);
                    break;
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        running = false;
        log.info("REST drained");
    }

    /** Only when the process is exiting (SIGTERM): a context closed in a JVM that goes on is not halted. */
    private void armWatchdog() {
        if (forceExitAfter.isZero() || forceExitAfter.isNegative() || !jvmShuttingDown()) {
            return;
        }
        Thread watchdog = new Thread(() -> {
            try {
                Thread.sleep(forceExitAfter.toMillis());
            } catch (InterruptedException e) {
                return;
            }
            log.error("shutdown still not finished after {} (relay.shutdown.force-exit-after): halting", forceExitAfter);
            Runtime.getRuntime().halt(1);
        }, "shutdown-watchdog");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    private static boolean jvmShuttingDown() {
        Thread probe = new Thread(() -> { });
        try {
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;    // "Shutdown in progress"
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops first of all lifecycles: before the web server's graceful phase and Camel's. */
    @Override
    public int getPhase() {
        return Integer.MAX_VALUE;
    }
}
