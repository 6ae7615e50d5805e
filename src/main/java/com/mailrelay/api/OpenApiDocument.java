package com.mailrelay.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.core.util.Json;
import io.swagger.v3.core.util.Yaml;
import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import org.apache.camel.CamelContext;
import org.apache.camel.Exchange;
import org.apache.camel.component.platform.http.springboot.PlatformHttpMessage;
import org.apache.camel.model.Model;
import org.apache.camel.model.rest.ResponseMessageDefinition;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.VerbDefinition;
import org.apache.camel.openapi.BeanConfig;
import org.apache.camel.openapi.OpenApiHelper;
import org.apache.camel.openapi.RestOpenApiReader;
import org.apache.camel.openapi.RestOpenApiSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The API's one OpenAPI 3 document, read from the REST DSL by camel-openapi-java (every verb's
 * description, parameters, {@code type}, {@code outType} and {@code responseMessage}s), then
 * completed with what holds for every route and so is declared once, here:
 * <ul>
 *   <li>the bearer security scheme, required everywhere but on the paths {@link ApiRequestFilter}
 *       lets through without a key (tracking, unsubscribe, provider events, this document);</li>
 *   <li>the statuses the filter and rest-errors answer for any route — 401 where a key is needed,
 *       413 and 415 where a body is taken, 503 everywhere — and the {@link ApiError} body of every
 *       error response that a route did not give a body of its own;</li>
 *   <li>schema properties in snake_case, as the API writes and reads JSON (records are camelCase in Java).</li>
 * </ul>
 * The document is built once, on its first request, and then served from memory: an anonymous
 * caller cannot make the relay read its routes again. The REST definitions do not change while
 * it runs (route files reload only YAML routes, not the REST DSL).
 */
@Component("openApiDocument")
public class OpenApiDocument {

    private static final Logger log = LoggerFactory.getLogger(OpenApiDocument.class);

    /** Where the document is served; public (it holds no secret). */
    public static final String JSON_PATH = "/api/v1/openapi.json";
    public static final String YAML_PATH = "/api/v1/openapi.yaml";

    static final String SECURITY_SCHEME = "apiKey";
    private static final int MAX_AGE_SECONDS = 300;
    private static final String JSON = "application/json";

    private final CamelContext camel;
    private volatile Rendered rendered;

    record Rendered(byte[] json, byte[] yaml, String etag) {
    }

    public OpenApiDocument(CamelContext camel) {
        this.camel = camel;
    }

    /** The document as JSON. */
    public byte[] json() {
        return rendered().json();
    }

    /** The document as YAML. */
    public byte[] yaml() {
        return rendered().yaml();
    }

    /** A validator of the current document: it changes only with a new version of the relay. */
    public String etag() {
        return rendered().etag();
    }

    /**
     * Lets clients and proxies keep the document a while (and revalidate it by its ETag). On the
     * servlet response itself: Camel's HTTP header filter drops a Cache-Control message header.
     */
    public void cacheable(Exchange exchange) {
        if (exchange.getIn() instanceof PlatformHttpMessage http) {
            http.getResponse().setHeader("Cache-Control", "public, max-age=" + MAX_AGE_SECONDS);
        }
    }

    private Rendered rendered() {
        Rendered current = rendered;
        if (current == null) {
            synchronized (this) {
                current = rendered;
                if (current == null) {
                    long start = System.nanoTime();
                    current = render(build());
                    rendered = current;
                    log.info("OpenAPI document built in {} ms ({} bytes of JSON)",
                            (System.nanoTime() - start) / 1_000_000, current.json().length);
                }
            }
        }
        return current;
    }

    private static Rendered render(OpenAPI document) {
        try {
            byte[] json = Json.pretty().writeValueAsString(document).getBytes(StandardCharsets.UTF_8);
            byte[] yaml = Yaml.pretty().writeValueAsString(document).getBytes(StandardCharsets.UTF_8);
            return new Rendered(json, yaml, "\"" + com.mailrelay.message.Digests.sha256Hex(
                    new String(json, StandardCharsets.UTF_8)).substring(0, 32) + "\"");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("the OpenAPI document could not be written", e);
        }
    }

    /** The document as a model, built anew (tests read it; requests get the rendered copy). */
    public OpenAPI build() {
        List<RestDefinition> rests = camel.getCamelContextExtension().getContextPlugin(Model.class).getRestDefinitions();
        rests.forEach(this::binaryNames);
        BeanConfig config = new BeanConfig();
        Map<String, Object> properties = new LinkedHashMap<>();
        if (camel.getRestConfiguration().getApiProperties() != null) {
            properties.putAll(camel.getRestConfiguration().getApiProperties());
        }
        properties.putIfAbsent("openapi.version", "3.0.3");
        new RestOpenApiSupport().initOpenApi(config, properties);
        OpenAPI document;
        try {
            document = new RestOpenApiReader().read(camel, rests, config, camel.getName(), camel.getClassResolver());
        } catch (Exception e) {
            throw new IllegalStateException("the REST definitions could not be read into an OpenAPI document", e);
        }
        Components components = document.getComponents() == null ? new Components() : document.getComponents();
        document.setComponents(components);
        // The error shape, whether or not a route named it: every error response refers to it.
        Map<String, String> names = new LinkedHashMap<>();
        new ModelConverters().readAll(ApiError.class).forEach((name, schema) -> {
            String simple = name.substring(name.lastIndexOf('.') + 1);
            names.put(name, simple);
            components.addSchemas(name, schema);
        });
        names.putAll(nestedNames(components));
        rename(document, names);
        OpenApiHelper.clearVendorExtensions(document);
        schemas(document, schema -> schema.setExtensions(null));
        complete(document);
        return document;
    }

    /**
     * Names for the schemas of nested records: "DkimRecordsView" rather than "View" (which would
     * clash with the next View), unless the record names itself with {@code @Schema(name = ...)}.
     */
    @SuppressWarnings("rawtypes")
    private Map<String, String> nestedNames(Components components) {
        Map<String, String> names = new LinkedHashMap<>();
        if (components.getSchemas() == null) {
            return names;
        }
        components.getSchemas().forEach((name, schema) -> {
            Object className = schema.getExtensions() == null ? null : schema.getExtensions().get("x-className");
            if (className instanceof Map<?, ?> value && value.get("format") instanceof String binary
                    && binary.contains("$")) {
                Class<?> type = camel.getClassResolver().resolveClass(binary);
                var declared = type == null ? null : type.getAnnotation(io.swagger.v3.oas.annotations.media.Schema.class);
                if (declared == null || declared.name().isEmpty()) {
                    names.put(name, binary.substring(binary.lastIndexOf('.') + 1).replace("$", ""));
                }
            }
        });
        return names;
    }

    /** Renames component schemas and every reference to them. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static void rename(OpenAPI document, Map<String, String> names) {
        Map<String, Schema> schemas = document.getComponents().getSchemas();
        if (schemas == null || names.isEmpty()) {
            return;
        }
        Map<String, Schema> renamed = new java.util.TreeMap<>();
        schemas.forEach((name, schema) -> renamed.put(names.getOrDefault(name, name), schema));
        document.getComponents().setSchemas(renamed);
        String prefix = "#/components/schemas/";
        schemas(document, schema -> {
            String ref = schema.get$ref();
            // A schema the reader keyed by its full name ("com.x.A.B", two classes named B) is
            // referred to by that bare name, which a reader takes for a file: it becomes a local ref.
            String name = ref == null ? null : ref.startsWith(prefix) ? ref.substring(prefix.length())
                    : ref.contains("#") || ref.contains("/") ? null : ref;
            if (name != null && (names.containsKey(name) || renamed.containsKey(name))) {
                schema.set$ref(prefix + names.getOrDefault(name, name));
            }
        });
    }

    /** Visits every schema of the document, wherever it is (components, parameters, bodies, answers). */
    @SuppressWarnings("rawtypes")
    private static void schemas(OpenAPI document, java.util.function.Consumer<Schema> visitor) {
        java.util.Set<Schema> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (document.getComponents() != null && document.getComponents().getSchemas() != null) {
            document.getComponents().getSchemas().values().forEach(schema -> visit(schema, visitor, seen));
        }
        document.getPaths().values().forEach(item -> item.readOperations().forEach(operation -> {
            if (operation.getParameters() != null) {
                operation.getParameters().forEach(parameter -> visit(parameter.getSchema(), visitor, seen));
            }
            if (operation.getRequestBody() != null && operation.getRequestBody().getContent() != null) {
                operation.getRequestBody().getContent().values().forEach(media -> visit(media.getSchema(), visitor, seen));
            }
            if (operation.getResponses() != null) {
                operation.getResponses().values().forEach(response -> {
                    if (response.getContent() != null) {
                        response.getContent().values().forEach(media -> visit(media.getSchema(), visitor, seen));
                    }
                });
            }
        }));
    }

    @SuppressWarnings({"rawtypes", "unchecked"})
    private static void visit(Schema schema, java.util.function.Consumer<Schema> visitor, java.util.Set<Schema> seen) {
        if (schema == null || !seen.add(schema)) {
            return;
        }
        visitor.accept(schema);
        if (schema.getProperties() != null) {
            ((Map<String, Schema>) schema.getProperties()).values().forEach(child -> visit(child, visitor, seen));
        }
        visit(schema.getItems(), visitor, seen);
        if (schema.getAdditionalProperties() instanceof Schema child) {
            visit(child, visitor, seen);
        }
        for (List<Schema> children : java.util.Arrays.asList(schema.getAllOf(), schema.getAnyOf(), schema.getOneOf())) {
            if (children != null) {
                children.forEach(child -> visit(child, visitor, seen));
            }
        }
        visit(schema.getNot(), visitor, seen);
    }

    /**
     * {@code type(Outer.Inner.class)} keeps the canonical name "Outer.Inner", which the reader can
     * neither load nor match to the schema it reads ("Outer$Inner"): the binary name is kept instead.
     * Only documentation reads these names (binding is off), so the REST routes are unchanged.
     */
    private void binaryNames(RestDefinition rest) {
        for (VerbDefinition verb : rest.getVerbs()) {
            verb.setType(binaryName(verb.getType()));
            verb.setOutType(binaryName(verb.getOutType()));
            for (ResponseMessageDefinition response : verb.getResponseMsgs()) {
                response.setResponseModel(binaryName(response.getResponseModel()));
            }
        }
    }

    private String binaryName(String name) {
        if (name == null || name.isBlank() || loads(name)) {
            return name;
        }
        String array = name.endsWith("[]") ? "[]" : "";
        String candidate = array.isEmpty() ? name : name.substring(0, name.length() - 2);
        for (int dot = candidate.lastIndexOf('.'); dot > 0; dot = candidate.lastIndexOf('.', dot - 1)) {
            String nested = candidate.substring(0, dot) + candidate.substring(dot).replace('.', '$');
            if (loads(nested)) {
                return nested + array;
            }
        }
        return name;
    }

    private boolean loads(String name) {
        return camel.getClassResolver().resolveClass(name.endsWith("[]") ? name.substring(0, name.length() - 2) : name) != null;
    }

    private static void complete(OpenAPI document) {
        document.setServers(List.of(new Server().url("/").description("this relay")));
        Components components = document.getComponents();
        components.addSecuritySchemes(SECURITY_SCHEME, new SecurityScheme().type(SecurityScheme.Type.HTTP)
                .scheme("bearer").bearerFormat("API key")
                .description("Authorization: Bearer <key>: a workspace's API key (its own mail and settings) "
                        + "or the admin key (every workspace, and the admin-only routes)"));
        document.setSecurity(List.of(new SecurityRequirement().addList(SECURITY_SCHEME)));
        if (components.getSchemas() != null) {
            components.getSchemas().values().forEach(OpenApiDocument::snakeCase);
        }
        document.getPaths().forEach((path, item) -> item.readOperationsMap().forEach(
                (method, operation) -> complete(path, method, operation)));
    }

    private static void complete(String path, PathItem.HttpMethod method, Operation operation) {
        ApiRequestFilter.Access access = ApiRequestFilter.access(path.replaceAll("\\{[^}]+}", "x"));
        if (access == ApiRequestFilter.Access.PUBLIC) {
            // No key: the path's own credential (a signed token, a provider's signature) if any.
            operation.setSecurity(List.of());
        }
        ApiResponses responses = operation.getResponses();
        // Camel adds an empty "default" when a verb declares no response; what follows declares some.
        ApiResponse empty = responses.get(ApiResponses.DEFAULT);
        if (empty != null && empty.getDescription() == null && empty.getContent() == null) {
            responses.remove(ApiResponses.DEFAULT);
        }
        ApiResponse ok = responses.get("200");
        if (ok != null && "Output type".equals(ok.getDescription())) {
            ok.setDescription(operation.getSummary() == null ? "OK" : operation.getSummary());
        }
        if (access != ApiRequestFilter.Access.PUBLIC) {
            responses.putIfAbsent("401", new ApiResponse().description("no API key, or one the relay does not know"
                    + (access == ApiRequestFilter.Access.ADMIN ? " (this route takes the admin key only)" : "")));
        }
        if (operation.getRequestBody() != null) {
            responses.putIfAbsent("413", new ApiResponse().description("the request body is over its limit "
                    + (access == ApiRequestFilter.Access.PUBLIC ? "(relay.inbound.max-body-size)" : "(relay.max-message-size)")));
            responses.putIfAbsent("415", new ApiResponse().description("the request body is not of a media type "
                    + "this route consumes"));
        }
        responses.putIfAbsent("503", new ApiResponse().description("the relay is shutting down or could not "
                + "complete the request (nothing was stored): try again after Retry-After"));
        // The API answers every error as an ApiError; the tracking links answer people (plain text,
        // HTML), but for what the filter refuses before them.
        boolean api = path.startsWith("/api/");
        responses.forEach((code, response) -> {
            boolean error = code.startsWith("4") || code.startsWith("5");
            boolean filtered = code.equals("413") || code.equals("415");
            if (error && (api || filtered) && (response.getContent() == null || response.getContent().isEmpty())) {
                response.setContent(new Content().addMediaType(JSON,
                        new MediaType().schema(new Schema<>().$ref("#/components/schemas/ApiError"))));
            }
            if (response.getDescription() == null) {
                response.setDescription(code);
            }
        });
        // Sorted by status, as readers expect.
        ApiResponses sorted = new ApiResponses();
        new java.util.TreeMap<>(responses).forEach(sorted::addApiResponse);
        operation.setResponses(sorted);
    }

    /** Property names as the API's JSON has them ({@code sizeBytes} is {@code size_bytes}). */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static void snakeCase(Schema schema) {
        var naming = (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;
        Map<String, Schema> properties = schema.getProperties();
        if (properties != null) {
            Map<String, Schema> renamed = new LinkedHashMap<>();
            properties.forEach((name, property) -> renamed.put(naming.translate(name), property));
            schema.setProperties(renamed);
        }
        List<String> required = schema.getRequired();
        if (required != null) {
            List<String> renamed = new ArrayList<>();
            required.forEach(name -> renamed.add(naming.translate(name)));
            schema.setRequired(renamed);
        }
    }
}
