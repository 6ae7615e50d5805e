package com.mailrelay.routing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.Audited;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.api.RestResponses;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Digests;
import com.mailrelay.workspace.AdminKeys;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Exchange;
import org.apache.camel.Route;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The routes' management API (admin key): {@code GET /api/v1/routes} lists every running route,
 * every route file and every template file with its last load; {@code GET /api/v1/routes/templates}
 * lists the provider templates (built in and the operator's) with their parameters, secrets marked
 * and never shown; {@code POST /api/v1/routes/reload} takes up changes now;
 * {@code PUT /api/v1/routes/{file}} validates an uploaded file and writes it only if valid
 * (off unless relay.routes.upload-enabled).
 */
@Component
public class RouteAdminRoutes extends RouteBuilder {

    private static final Logger log = LoggerFactory.getLogger(RouteAdminRoutes.class);
    private static final Pattern FILE_NAME = RouteFileEditor.FILE_NAME;

    private final RouteFiles routeFiles;
    private final TemplateFiles templateFiles;
    private final AdminKeys adminKeys;
    private final RestResponses responses;
    private final MeterRegistry meters;
    private final RelayProperties.Routes settings;

    public RouteAdminRoutes(RouteFiles routeFiles, TemplateFiles templateFiles, AdminKeys adminKeys,
                            RestResponses responses, MeterRegistry meters, RelayProperties properties) {
        this.routeFiles = routeFiles;
        this.templateFiles = templateFiles;
        this.adminKeys = adminKeys;
        this.responses = responses;
        this.meters = meters;
        this.settings = properties.routes();
    }

    @Override
    public void configure() {
        rest("/api/v1/routes")
                .get().id("rest-list-routes")
                    .description("Every running route with its counts, every route file and template file with its "
                            + "last load (admin key)")
                    .outType(RouteSchemas.Overview.class)
                    .to("direct:routes-list")
                .get("/templates").id("rest-list-templates")
                    .description("The provider templates, built in and the operator's, with their parameters "
                            + "(secrets marked, never shown; admin key)")
                    .outType(RouteSchemas.Templates.class)
                    .to("direct:routes-templates")
                .post("/reload").id("rest-reload-routes")
                    .description("Takes up changed route and template files now (admin key); a file that does not "
                            + "validate is reported and its routes run on as they were")
                    .outType(RouteSchemas.Overview.class)
                    .responseMessage().code(403).message("a workspace key: this takes the admin key").endResponseMessage()
                    .to("direct:routes-reload")
                // A route file is YAML (text/plain too, as curl --data-binary may send it).
                .put("/{file}").id("rest-upload-routes")
                    .consumes("application/yaml,application/x-yaml,text/yaml,text/x-yaml,application/*+yaml,text/plain")
                    .clientRequestValidation(true)
                    .description("Uploads a route file: validated, and written and loaded only if valid "
                            + "(off unless relay.routes.upload-enabled; admin key)")
                    .param().name("file").type(RestParamType.path).required(true).dataType("string")
                        .description("the file's name: a-z, 0-9 and -, ending in .camel.yaml").endParam()
                    .param().name("body").type(RestParamType.body).required(true).dataType("string")
                        .description("the route file, YAML").endParam()
                    .outType(RouteSchemas.Overview.class)
                    .responseMessage().code(400).message("the file name is not one of a route file").endResponseMessage()
                    .responseMessage().code(403).message("upload is off (relay.routes.upload-enabled), or a workspace key")
                        .endResponseMessage()
                    .responseMessage().code(422).message("the file does not validate (nothing written); message says why")
                        .endResponseMessage()
                    .to("direct:routes-upload");

        from("direct:routes-list").routeId("routes-list").routeConfigurationId(RestErrorConfiguration.ID)
                .process(this::authenticate)
                .process(e -> responses.respond(e, 200, overview()));

        from("direct:routes-templates").routeId("routes-templates").routeConfigurationId(RestErrorConfiguration.ID)
                .process(this::authenticate)
                .process(e -> responses.respond(e, 200, Map.of("templates", templateFiles.templates())));

        from("direct:routes-reload").routeId("routes-reload").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean(routeFiles, "scan")
                .bean("auditLog", "record(*, 'routes.reload', null)")
                .process(e -> responses.respond(e, 200, overview()));

        from("direct:routes-upload").routeId("routes-upload").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .process(this::upload)
                .filter(header(Exchange.HTTP_RESPONSE_CODE).isEqualTo(200))
                    .bean("auditLog", "record(*, 'routes.upload', null)")
                .end();
    }

    private void authenticate(Exchange exchange) {
        adminKeys.authenticate(exchange.getMessage().getHeader("Authorization", String.class));
    }

    private void upload(Exchange exchange) throws IOException {
        String name = exchange.getMessage().getHeader("file", String.class);
        if (!settings.uploadEnabled()) {
            responses.respond(exchange, 403, new ApiError("upload_disabled",
                    "route upload is off (relay.routes.upload-enabled)"));
            return;
        }
        if (name == null || !FILE_NAME.matcher(name).matches()) {
            responses.respond(exchange, 400, new ApiError("invalid_file_name",
                    "the file name must look like dispatch.camel.yaml (a-z, 0-9, -)"));
            return;
        }
        String content = exchange.getMessage().getBody(String.class);
        try {
            routeFiles.validate(name, content == null ? "" : content);
        } catch (RouteFileException e) {
            log.info("route upload {} refused (nothing written): {}", name, e.getMessage());
            responses.respond(exchange, 422, new ApiError("invalid_routes", e.getMessage()));
            return;
        }
        // The audit keeps which file and its digest, not its text: a route file may hold credentials.
        exchange.setProperty(Audited.TARGET, name);
        exchange.setProperty(Audited.CHANGE, Map.of("bytes", content == null ? 0 : content.getBytes(StandardCharsets.UTF_8).length,
                "sha256", Digests.sha256Hex(content == null ? "" : content)));
        Path target = routeFiles.directory().resolve(name);
        Path temporary = routeFiles.directory().resolve("." + name + ".upload");
        Files.writeString(temporary, content, StandardCharsets.UTF_8);
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        routeFiles.scan();
        responses.respond(exchange, 200, overview());
    }

    private Map<String, Object> overview() {
        List<RouteFileStatus> files = routeFiles.status();
        List<Map<String, Object>> routes = new ArrayList<>();
        for (Route route : getContext().getRoutes()) {
            Map<String, Object> view = new LinkedHashMap<>();
            view.put("id", route.getId());
            String file = routeFiles.fileOf(route.getId());
            view.put("source", file != null ? file : "java");
            view.put("state", getContext().getRouteController().getRouteStatus(route.getId()).name());
            view.put("exchanges_total", count("camel.exchanges.total", route.getId()));
            view.put("exchanges_failed", count("camel.exchanges.failed", route.getId()));
            view.put("inflight", getContext().getInflightRepository().size(route.getId()));
            // The last reload of the route's file: when, and whether it failed (the route then runs on).
            files.stream().filter(f -> f.file().equals(file)).findFirst().ifPresent(f -> {
                view.put("last_reload_at", f.lastReloadAt());
                view.put("last_reload_error", f.lastError());
            });
            routes.add(view);
        }
        Map<String, Object> overview = new LinkedHashMap<>();
        overview.put("routes", routes);
        overview.put("files", files);
        overview.put("template_files", templateFiles.status());
        overview.put("upload_enabled", settings.uploadEnabled());
        return overview;
    }

    private long count(String meter, String routeId) {
        Counter counter = meters.find(meter).tag("routeId", routeId).counter();
        return counter == null ? 0 : (long) counter.count();
    }
}
