package com.mailrelay.metrics;

import java.util.ArrayList;
import java.util.List;

import com.mailrelay.config.StartupOrder;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.ServiceStatus;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Health component {@code routes} (part of readiness): UP once the Camel context runs, the
 * dispatch route of routes/ is loaded and started, and every route that waits for the route files
 * (the queue's consumers, the SMTP ingress; config.StartupOrder) has been started. Before that an
 * accepted message would find no route to take it. A route file that fails to load later does not
 * make the relay unready: its previous routes keep running (GET /api/v1/routes shows the error).
 * Reads only Camel's route registry, never the route files' lock (a reload may hold it while it
 * drains, longer than a probe's timeout).
 */
@Component("routesHealthIndicator")
public class RoutesHealthIndicator implements HealthIndicator {

    /** The route every delivery goes through (routes/dispatch.camel.yaml). */
    static final String DISPATCH = "dispatch";

    private final CamelContext camel;

    public RoutesHealthIndicator(CamelContext camel) {
        this.camel = camel;
    }

    @Override
    public Health health() {
        if (!camel.getStatus().isStarted()) {
            return Health.down().withDetail("camel", camel.getStatus().name()).build();
        }
        List<String> waiting = new ArrayList<>();
        if (!started(DISPATCH)) {
            waiting.add(DISPATCH);
        }
        for (Route route : camel.getRoutes()) {
            if (StartupOrder.AFTER_ROUTE_FILES.equals(route.getGroup()) && !started(route.getRouteId())) {
                waiting.add(route.getRouteId());
            }
        }
        Health.Builder health = waiting.isEmpty() ? Health.up() : Health.down().withDetail("not_started", waiting);
        return health.withDetail("routes", camel.getRoutesSize()).build();
    }

    private boolean started(String routeId) {
        return camel.getRoute(routeId) != null
                && camel.getRouteController().getRouteStatus(routeId) == ServiceStatus.Started;
    }
}
