package com.mailrelay.config;

/**
 * Routes that must not take work before the route files are loaded: the queue's consumers (the
 * database poller and the Kafka consumer) hand every message to {@code direct:dispatch}, which
 * lives in routes/. Loaded after the Java routes have started (the files need their templates),
 * the route files would otherwise come a moment after the first messages — each then deferred
 * as "no route takes the message". Such routes are not started with the context; they carry
 * this group, and are started once the route files are in.
 */
public final class StartupOrder {

    /** The route group of the routes started after the route files are loaded. */
    public static final String AFTER_ROUTE_FILES = "after-route-files";

    private StartupOrder() {
    }
}
