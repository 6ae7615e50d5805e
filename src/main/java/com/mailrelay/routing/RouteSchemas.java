package com.mailrelay.routing;

import java.time.Instant;
import java.util.List;

import io.swagger.v3.oas.annotations.media.Schema;

/** The bodies of the routes API as the OpenAPI document shows them ({@link RouteAdminRoutes} builds them). */
final class RouteSchemas {

    private RouteSchemas() {
    }

    @Schema(name = "RouteOverview", description = "every running route, every route file and every template file")
    record Overview(List<RunningRoute> routes, List<RouteFileStatus> files, List<RouteFileStatus> templateFiles,
                    @Schema(description = "whether route files may be edited over the API (relay.routes.upload-enabled)")
                    boolean uploadEnabled) {
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

    @Schema(name = "RouteFileText", description = "a route file as it is on disk now, with how its last load went")
    record FileText(String file,
                    @Schema(description = "the file's YAML") String content,
                    @Schema(description = "SHA-256 of the content (hex)") String sha256,
                    @Schema(description = "the routes running from it") List<String> routes,
                    @Schema(description = "its last load; null when it has not been taken up yet") Instant lastReloadAt,
                    @Schema(description = "why its last load failed (its previous routes run on); null when it loaded")
                    String lastError) {
    }

    @Schema(name = "RouteFileCheck", description = "what an upload of this content would do; nothing is written")
    record FileCheck(String file,
                     @Schema(description = "true: an upload of it would be written and loaded") boolean valid,
                     @Schema(description = "the route ids of the file, when valid") List<String> routes,
                     @Schema(description = "why it would be refused (file, line and reason)") String message,
                     @Schema(description = "the line the reason names, when it names one") Integer line,
                     @Schema(description = "the column the reason names, when it names one") Integer column) {
    }

    @Schema(name = "ProviderTemplates")
    record Templates(List<ProviderTemplate> templates) {
    }
}
