package com.mailrelay.workspace;

import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * The cache upkeep of {@link Workspaces}: a cheap poll of the change counter (reloading only
 * when another instance, or this one, changed a workspace, key or user), and the write of the API
 * keys' last-used times gathered in memory.
 */
@Component
public class WorkspaceRefreshRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("timer:workspaces-refresh?delay={{relay.tenants.refresh-interval:1s}}"
                + "&period={{relay.tenants.refresh-interval:1s}}")
                .routeId("workspaces-refresh")
                .bean("workspaces", "refresh");

        from("timer:api-keys-last-used?delay={{relay.tenants.last-used-flush-interval:5s}}"
                + "&period={{relay.tenants.last-used-flush-interval:5s}}")
                .routeId("api-keys-last-used")
                .bean("workspaces", "flushLastUsed");
    }
}
