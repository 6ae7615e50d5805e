package com.mailrelay.metrics;

import java.util.ArrayList;
import java.util.List;

import org.apache.camel.CamelContext;
import org.apache.camel.ServiceStatus;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

/**
 * Health component {@code routes} (part of readiness): UP once the Camel context runs, the accept
 * path ({@code accept}) is started and routes/ is loaded — its {@code dispatch} route, which every
 * delivery goes through, is started. Before that an accepted message would find no route to take
 * it. The queue's consumers are not part of it: accepting does not need them (they start right
 * after routes/ is loaded, and a test or an operator may stop one). A route file that fails to load
 * later does not make the relay unready either: its previous routes keep running (GET
 * /api/v1/routes shows the error). Reads only Camel's route registry, never the route files' lock
 * (a reload may hold it while it drains, longer than a probe's timeout).
 */
@Component("routesHealthIndicator")
public class RoutesHealthIndicator implements HealthIndicator {

    /** The accept path of both ingresses, and the route of routes/ every delivery goes through. */
    static final List<String> REQUIRED = List.of("accept", "dispatch");

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
        for (String required : REQUIRED) {
            if (!started(required)) {
                waiting.add(required);
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
