package com.mailrelay.routing;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import com.mailrelay.provider.TransientDeliveryException;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.NamedNode;
import org.apache.camel.Route;
import org.apache.camel.spi.RoutePolicy;
import org.apache.camel.spi.RoutePolicyFactory;
import org.apache.camel.support.service.ServiceHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a route file's routes over to their new version without waiting on the old one: the old
 * route stops taking exchanges at once, the exchanges inside it get relay.routes.drain-timeout to
 * finish, and those still inside after that are given back — when they come out of the old route
 * they end with a {@link TransientDeliveryException}, so that the message (durable in the queue,
 * still SENDING under its lease) is deferred and retried through the new routes. Never recorded
 * SENT or FAILED by the old version, never waited on for the whole lease.
 *
 * <p>It knows what is inside a route through a route policy that it gives to the routes of route
 * files only (the relay's Java routes are never replaced).
 */
final class RouteHandover implements RoutePolicyFactory {

    private static final Logger log = LoggerFactory.getLogger(RouteHandover.class);
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

    /** Ids of route-file routes: only these are watched. */
    private final Set<String> watched = ConcurrentHashMap.newKeySet();
    /** The watch on the route instance that currently has each id. */
    private final Map<String, Inside> inside = new ConcurrentHashMap<>();

    void watch(Iterable<String> routeIds) {
        routeIds.forEach(watched::add);
    }

    @Override
    public RoutePolicy createRoutePolicy(CamelContext camelContext, String routeId, NamedNode route) {
        if (routeId == null || !watched.contains(routeId)) {
            return null;
        }
        Inside watch = new Inside(routeId);
        inside.put(routeId, watch);
        return watch;
    }

    /**
     * Stops and removes a route, waiting at most until {@code deadline} (System.nanoTime) for the
     * exchanges inside it; returns how many were given back.
     */
    int stopAndRemove(CamelContext camel, String routeId, long deadline) throws Exception {
        Route route = camel.getRoute(routeId);
        int givenBack = 0;
        if (route != null) {
            Inside watch = inside.get(routeId);
            // No new exchanges: callers wait (direct's block timeout) for the new version's consumer.
            ServiceHelper.stopService(route.getConsumer());
            if (watch != null) {
                while (!watch.exchanges.isEmpty() && System.nanoTime() < deadline) {
                    LockSupport.parkNanos(POLL_NANOS);
                }
                givenBack = watch.giveBack();
            }
            // Nothing the shutdown strategy needs to wait for any more: those left are given back.
            camel.getRouteController().stopRoute(routeId, givenBack > 0 ? 1 : Duration.ofSeconds(5).toMillis(),
                    TimeUnit.MILLISECONDS);
            camel.removeRoute(routeId);
            inside.remove(routeId, watch);
            if (givenBack > 0) {
                log.warn("route {} replaced with {} exchanges still in it: they end as transient failures and "
                        + "their messages are retried", routeId, givenBack);
            }
        }
        return givenBack;
    }

    /**
     * Which exchanges are inside one route instance. A plain RoutePolicy, not a service: a stopped
     * route's policies that are services are no longer called, and this one must still see the
     * given-back exchanges leave.
     */
    private static final class Inside implements RoutePolicy {
        private final String routeId;
        private final Set<Exchange> exchanges = ConcurrentHashMap.newKeySet();
        private final Set<Exchange> givenBack = ConcurrentHashMap.newKeySet();

        Inside(String routeId) {
            this.routeId = routeId;
        }

        /**
         * Marks what is still inside: failed at once (so that the old route's next step does not
         * run: a pipeline stops at an exception), and failed again as it leaves, whatever the
         * steps further in made of it.
         */
        int giveBack() {
            for (Exchange exchange : exchanges) {
                givenBack.add(exchange);
                exchange.setException(givenBack(exchange));
            }
            return givenBack.size();
        }

        private TransientDeliveryException givenBack(Exchange exchange) {
            return new TransientDeliveryException(null, 0, "route " + routeId + " was replaced by a new version "
                    + "of its route file while the message was in it; it is tried again", exchange.getException());
        }

        @Override
        public void onExchangeBegin(Route route, Exchange exchange) {
            exchanges.add(exchange);
        }

        @Override
        public void onExchangeDone(Route route, Exchange exchange) {
            exchanges.remove(exchange);
            if (givenBack.remove(exchange)) {
                // Whatever happened further in, the old version does not decide this message's outcome.
                if (!(exchange.getException() instanceof TransientDeliveryException)) {
                    exchange.setException(givenBack(exchange));
                }
            }
        }

        @Override
        public void onInit(Route route) {
        }

        @Override
        public void onRemove(Route route) {
        }

        @Override
        public void onStart(Route route) {
        }

        @Override
        public void onStop(Route route) {
        }

        @Override
        public void onSuspend(Route route) {
        }

        @Override
        public void onResume(Route route) {
        }
    }
}
