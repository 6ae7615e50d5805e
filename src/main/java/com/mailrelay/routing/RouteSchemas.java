package com.mailrelay.routing;

import java.time.Instant;
import java.util.List;

import io.swagger.v3.oas.annotations.media.Schema;

/** The bodies of the routes API as the OpenAPI document shows them ({@link RouteAdminRoutes} builds them). */
final class RouteSchemas {

    private RouteSchemas() {
    }

    @Schema(name = "RouteOverview", description = "every running route, every route file and every template file")
    record Overview(List<RunningRoute> routes, List<RouteFileStatus> files, List<RouteFileStatus> templateFiles) {
    }

    @Schema(name = "RunningRoute")
    record RunningRoute(String id,
                        @Schema(description = "the route file it was loaded from, or java") String source,
                        @Schema(description = "Started, Stopped, ...") String state,
                        long exchangesTotal, long exchangesFailed, int inflight,
                        @Schema(description = "the last reload of its file") Instant lastReloadAt,
                        @Schema(description = "why the last reload of its file failed (the route runs on as it was)")
                        String lastReloadError) {
    }

    @Schema(name = "ProviderTemplates")
    record Templates(List<ProviderTemplate> templates) {
    }
}
