package com.mailrelay.routing;

import com.mailrelay.config.StartupOrder;
import org.apache.camel.CamelContext;
import org.apache.camel.Route;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.spring.boot.CamelContextConfiguration;
import org.springframework.stereotype.Component;

/**
 * Loads the provider templates and then the route files once the relay's own routes are in place,
 * then watches them: {@code route-files} looks for changes (templates folder first, then routes/)
 * every relay.routes.reload-interval, when reloading is on. Being Java DSL, it is never itself
 * replaced by a reload.
 */
@Component
public class RouteFileRoutes extends RouteBuilder implements CamelContextConfiguration {

    private final RouteFiles routeFiles;

    public RouteFileRoutes(RouteFiles routeFiles) {
        this.routeFiles = routeFiles;
    }

    @Override
    public void configure() {
        from("timer:route-files?delay={{relay.routes.reload-interval}}&period={{relay.routes.reload-interval}}")
                .routeId("route-files")
                .autoStartup("{{relay.routes.reload-enabled}}")
                .bean(routeFiles, "scan");
    }

    @Override
    public void beforeApplicationStart(CamelContext camelContext) {
    }

    /** Loads the templates and routes/, then starts the routes that wait for it (the queue's consumers). */
    @Override
    public void afterApplicationStart(CamelContext camelContext) {
        routeFiles.scan();
        for (Route route : camelContext.getRoutes()) {
            if (StartupOrder.AFTER_ROUTE_FILES.equals(route.getGroup())) {
                try {
                    camelContext.getRouteController().startRoute(route.getId());
                } catch (Exception e) {
                    throw new IllegalStateException("route " + route.getId() + " could not start", e);
                }
            }
        }
    }
}
