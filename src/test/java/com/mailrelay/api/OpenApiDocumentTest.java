package com.mailrelay.api;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.atlassian.oai.validator.OpenApiInteractionValidator;
import com.atlassian.oai.validator.model.Request;
import com.atlassian.oai.validator.model.SimpleRequest;
import com.atlassian.oai.validator.model.SimpleResponse;
import com.atlassian.oai.validator.report.ValidationReport;
import com.mailrelay.ingress.rest.MessageRequest;
import com.mailrelay.ingress.rest.MessageRequestSchema;
import com.mailrelay.support.RelayTestSupport;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.parameters.Parameter;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.HttpEndpointModel;
import org.apache.camel.component.platform.http.PlatformHttpComponent;
import org.apache.camel.model.Model;
import org.apache.camel.model.rest.ParamDefinition;
import org.apache.camel.model.rest.RestDefinition;
import org.apache.camel.model.rest.RestParamType;
import org.apache.camel.model.rest.VerbDefinition;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The API's OpenAPI document ({@code GET /api/v1/openapi.json}): it names every route the running
 * relay serves, each fully declared; it is a valid OpenAPI 3 document; and what it calls an
 * invalid request the relay refuses with a status the document lists, in the body it documents —
 * both judged by an OpenAPI validator (swagger-request-validator), not by hand.
 */
class OpenApiDocumentTest extends RelayTestSupport {

    private static final String WORKSPACE_KEY = key("acme");

    @Autowired
    CamelContext camel;

    private static String json;
    private static OpenAPI document;
    private static OpenApiInteractionValidator validator;

    private void load() {
        if (json == null) {
            HttpResponse<String> response = send(HttpRequest.newBuilder(uri(OpenApiDocument.JSON_PATH)).GET().build());
            assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
            json = response.body();
            SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(json, null, new ParseOptions());
            assertThat(parsed.getMessages()).as("OpenAPI 3 specification errors").isEmpty();
            document = parsed.getOpenAPI();
            validator = OpenApiInteractionValidator.createForInlineApiSpecification(json).build();
        }
    }

    @Test
    void theDocumentIsValidOpenApi3PublicAndServedFromMemory() {
        load();
        assertThat(document.getOpenapi()).startsWith("3.0");
        assertThat(document.getInfo().getTitle()).isEqualTo("Mail Relay API");
        assertThat(document.getInfo().getVersion()).isNotBlank().doesNotContain("@");
        assertThat(document.getComponents().getSecuritySchemes().get(OpenApiDocument.SECURITY_SCHEME).getScheme())
                .isEqualTo("bearer");
        // Every reference resolves (the parser names a missing one only when asked to resolve).
        Matcher refs = Pattern.compile("\"\\$ref\" : \"#/components/schemas/([^\"]+)\"").matcher(json);
        Set<String> missing = new TreeSet<>();
        while (refs.find()) {
            if (!document.getComponents().getSchemas().containsKey(refs.group(1))) {
                missing.add(refs.group(1));
            }
        }
        assertThat(missing).as("references to no schema").isEmpty();

        // The YAML is the same document.
        HttpResponse<String> yaml = send(HttpRequest.newBuilder(uri(OpenApiDocument.YAML_PATH)).GET().build());
        assertThat(yaml.statusCode()).isEqualTo(200);
        assertThat(yaml.headers().firstValue("Content-Type")).hasValueSatisfying(type -> assertThat(type).contains("yaml"));
        SwaggerParseResult fromYaml = new OpenAPIV3Parser().readContents(yaml.body(), null, new ParseOptions());
        assertThat(fromYaml.getMessages()).isEmpty();
        assertThat(fromYaml.getOpenAPI().getPaths().keySet()).isEqualTo(document.getPaths().keySet());

        // Public, cacheable, and revalidated without being built or sent again.
        HttpResponse<String> first = send(HttpRequest.newBuilder(uri(OpenApiDocument.JSON_PATH)).GET().build());
        String etag = first.headers().firstValue("ETag").orElseThrow();
        assertThat(first.headers().firstValue("Cache-Control")).hasValueSatisfying(v -> assertThat(v).contains("max-age"));
        assertThat(first.headers().firstValue("Access-Control-Allow-Origin")).hasValue("*");
        HttpResponse<String> again = send(HttpRequest.newBuilder(uri(OpenApiDocument.JSON_PATH))
                .header("If-None-Match", etag).GET().build());
        assertThat(again.statusCode()).isEqualTo(304);
        assertThat(again.body()).isEmpty();
        // GET only: nothing else makes it do anything.
        for (String method : List.of("POST", "PUT", "DELETE", "PATCH")) {
            HttpResponse<String> other = send(HttpRequest.newBuilder(uri(OpenApiDocument.JSON_PATH))
                    .header("Content-Type", "application/json")
                    .method(method, HttpRequest.BodyPublishers.ofString("{}")).build());
            assertThat(other.statusCode()).as(method).isIn(404, 405);
        }
        // Anything that would need a key says so; the public paths say they need none.
        document.getPaths().forEach((path, item) -> item.readOperations().forEach(operation -> {
            boolean open = ApiRequestFilter.access(path.replaceAll("\\{[^}]+}", "x")) == ApiRequestFilter.Access.PUBLIC;
            assertThat(operation.getSecurity() != null && operation.getSecurity().isEmpty())
                    .as(path + " public").isEqualTo(open);
        }));
    }

    /**
     * Every path and verb that platform-http serves is in the document, and each REST verb is
     * declared as the README asks: a description, each path parameter (and every declared one)
     * with a type and a description, its success answer (outType, or a 2xx/3xx responseMessage),
     * and error answers.
     */
    @Test
    void theDocumentCoversEveryRouteTheRelayServes() {
        load();
        List<String> problems = new ArrayList<>();
        PlatformHttpComponent http = camel.getComponent("platform-http", PlatformHttpComponent.class);
        Set<String> served = new TreeSet<>();
        for (HttpEndpointModel endpoint : http.getHttpEndpoints()) {
            String verbs = endpoint.getVerbs() == null ? "GET" : endpoint.getVerbs();
            for (String verb : verbs.split(",")) {
                served.add(verb.trim().toUpperCase(Locale.ROOT) + " " + endpoint.getUri());
            }
        }
        for (RestDefinition rest : camel.getCamelContextExtension().getContextPlugin(Model.class).getRestDefinitions()) {
            for (VerbDefinition verb : rest.getVerbs()) {
                served.add(verb.asVerb().toUpperCase(Locale.ROOT) + " " + join(rest.getPath(), verb.getPath()));
                problems.addAll(declarationProblems(rest, verb));
            }
        }
        assertThat(served).contains("POST /api/v1/messages", "GET /api/v1/messages/{id}", "GET /t/o/{pixel}",
                "PUT /api/v1/routes/{file}", "GET " + OpenApiDocument.JSON_PATH);
        for (String call : served) {
            String method = call.substring(0, call.indexOf(' '));
            String path = call.substring(call.indexOf(' ') + 1);
            PathItem item = document.getPaths().get(path);
            Operation operation = item == null ? null : item.readOperationsMap().get(PathItem.HttpMethod.valueOf(method));
            if (operation == null) {
                problems.add(call + " is not in the document");
                continue;
            }
            if (operation.getSummary() == null || operation.getSummary().isBlank()) {
                problems.add(call + " has no description");
            }
            Set<String> declared = operation.getParameters() == null ? Set.of() : operation.getParameters().stream()
                    .filter(p -> "path".equals(p.getIn())).map(Parameter::getName).collect(Collectors.toSet());
            Matcher names = Pattern.compile("\\{([^}]+)}").matcher(path);
            while (names.find()) {
                if (!declared.contains(names.group(1))) {
                    problems.add(call + " does not declare its path parameter " + names.group(1));
                }
            }
            if (operation.getResponses().keySet().stream().noneMatch(code -> code.startsWith("4"))) {
                problems.add(call + " documents no error answer");
            }
            if (operation.getResponses().keySet().stream().noneMatch(code -> code.startsWith("2") || code.startsWith("3"))) {
                problems.add(call + " documents no success answer");
            }
        }
        assertThat(problems).as("routes missing from the document or not fully declared").isEmpty();
    }

    private static List<String> declarationProblems(RestDefinition rest, VerbDefinition verb) {
        String call = verb.asVerb().toUpperCase(Locale.ROOT) + " " + join(rest.getPath(), verb.getPath()) + " (" + verb.getId() + ")";
        List<String> problems = new ArrayList<>();
        if (verb.getId() == null) {
            problems.add(call + " has no id");
        }
        for (ParamDefinition param : verb.getParams()) {
            if (param.getDescription() == null || param.getDescription().isBlank()) {
                problems.add(call + " parameter " + param.getName() + " has no description");
            }
            if (param.getType() != RestParamType.body && param.getDataType() == null) {
                problems.add(call + " parameter " + param.getName() + " has no dataType");
            }
        }
        boolean success = verb.getOutType() != null || verb.getResponseMsgs().stream()
                .anyMatch(response -> response.getCode().startsWith("2") || response.getCode().startsWith("3"));
        if (!success) {
            problems.add(call + " declares neither outType nor a 2xx/3xx responseMessage");
        }
        return problems;
    }

    /** The request body's schema is the request record's: the same fields, none missing, none extra. */
    @Test
    void theMessageRequestSchemaHasTheFieldsOfTheRequest() {
        assertThat(Arrays.stream(MessageRequestSchema.class.getRecordComponents()).map(c -> c.getName()).toList())
                .isEqualTo(Arrays.stream(MessageRequest.class.getRecordComponents()).map(c -> c.getName()).toList());
        assertThat(Arrays.stream(MessageRequestSchema.Attachment.class.getRecordComponents()).map(c -> c.getName()).toList())
                .isEqualTo(Arrays.stream(MessageRequest.Attachment.class.getRecordComponents()).map(c -> c.getName()).toList());
    }

    /**
     * Requests the document calls invalid (the validator says so first), sent to the relay: each is
     * refused with a status the document lists for its operation, in the body it documents there.
     */
    @Test
    void aRequestTheDocumentCallsInvalidIsRefusedAsDocumented() {
        load();
        String valid = "\"from\": \"app@acme.example\", \"to\": [\"alice@example.org\"], \"subject\": \"Hi\", \"text\": \"x\"";
        List<Call> calls = List.of(
                // POST /api/v1/messages: a required field missing, a wrong type, over a maxLength, an
                // unknown field, the wrong media type, no key.
                Call.post("/api/v1/messages", WORKSPACE_KEY, "application/json",
                        "{\"from\": \"app@acme.example\", \"subject\": \"Hi\", \"text\": \"x\"}"),
                Call.post("/api/v1/messages", WORKSPACE_KEY, "application/json",
                        "{\"from\": \"app@acme.example\", \"to\": {\"alice\": 1}, \"subject\": \"Hi\", \"text\": \"x\"}"),
                Call.post("/api/v1/messages", WORKSPACE_KEY, "application/json",
                        "{" + valid.replace("\"Hi\"", "\"" + "s".repeat(999) + "\"") + "}"),
                Call.post("/api/v1/messages", WORKSPACE_KEY, "application/json",
                        "{" + valid + ", \"type\": \"newsletter\"}"),
                Call.post("/api/v1/messages", WORKSPACE_KEY, "application/json", "{" + valid + ", \"colour\": \"red\"}"),
                Call.post("/api/v1/messages", WORKSPACE_KEY, "text/plain", "{" + valid + "}"),
                // Query and path parameters of the wrong type or format.
                Call.get("/api/v1/messages/" + java.util.UUID.randomUUID(), Map.of("limit", "many"), WORKSPACE_KEY),
                Call.get("/api/v1/audit", Map.of("since", "yesterday"), WORKSPACE_KEY),
                Call.get("/api/v1/audit", Map.of("limit", "lots"), WORKSPACE_KEY),
                // PUT /api/v1/recipients/{email}: a status not in the enum, a name over its maxLength.
                Call.put("/api/v1/recipients/openapi%40example.org", WORKSPACE_KEY, "application/json",
                        "{\"status\": \"GONE\"}"),
                Call.put("/api/v1/recipients/openapi%40example.org", WORKSPACE_KEY, "application/json",
                        "{\"first_name\": \"" + "n".repeat(256) + "\"}"),
                // A provider's webhook without the signature headers the document requires.
                Call.post("/api/v1/inbound/esp/sendgrid", null, "application/json", "[]"));

        List<String> problems = new ArrayList<>();
        for (Call call : calls) {
            ValidationReport request = validator.validateRequest(call.toValidatorRequest());
            if (!request.hasErrors()) {
                problems.add(call + ": the document does not call this request invalid");
                continue;
            }
            HttpResponse<String> response = send(call.toHttpRequest(port));
            if (response.statusCode() < 400 || response.statusCode() >= 500) {
                problems.add(call + " answered " + response.statusCode() + ": " + response.body());
                continue;
            }
            SimpleResponse.Builder answer = SimpleResponse.Builder.status(response.statusCode()).withBody(response.body());
            response.headers().firstValue("Content-Type").ifPresent(type -> answer.withContentType(type));
            ValidationReport documented = validator.validateResponse(call.path(), call.method(), answer.build());
            if (documented.hasErrors()) {
                problems.add(call + " answered " + response.statusCode() + " " + response.body()
                        + ", not as documented: " + documented.getMessages());
            }
        }
        // Without the key the document requires (the validator leaves security to the server).
        Call anonymous = Call.post("/api/v1/messages", null, "application/json", "{" + valid + "}");
        assertThat(document.getPaths().get("/api/v1/messages").getPost().getSecurity()).isNull();
        assertThat(document.getSecurity()).isNotEmpty();
        HttpResponse<String> refused = send(anonymous.toHttpRequest(port));
        assertThat(refused.statusCode()).isEqualTo(401);
        ValidationReport documented = validator.validateResponse(anonymous.path(), anonymous.method(),
                SimpleResponse.Builder.status(401).withContentType("application/json").withBody(refused.body()).build());
        assertThat(documented.getMessages()).isEmpty();

        assertThat(problems).isEmpty();
        // Refused, so nothing was stored: the recipient entry was never created.
        assertThat(jdbc.queryForObject("select count(*) from recipients where email = 'openapi@example.org'",
                Long.class)).isZero();
    }

    record Call(Request.Method method, String path, Map<String, String> query, String key, String contentType,
                String body) {

        static Call post(String path, String key, String contentType, String body) {
            return new Call(Request.Method.POST, path, Map.of(), key, contentType, body);
        }

        static Call put(String path, String key, String contentType, String body) {
            return new Call(Request.Method.PUT, path, Map.of(), key, contentType, body);
        }

        static Call get(String path, Map<String, String> query, String key) {
            return new Call(Request.Method.GET, path, query, key, null, null);
        }

        Request toValidatorRequest() {
            SimpleRequest.Builder request = new SimpleRequest.Builder(method, java.net.URLDecoder.decode(path,
                    StandardCharsets.UTF_8));
            query.forEach(request::withQueryParam);
            if (key != null) {
                request.withAuthorization("Bearer " + key);
            }
            if (body != null) {
                request.withContentType(contentType).withBody(body);
            }
            return request.build();
        }

        HttpRequest toHttpRequest(int port) {
            String queryString = query.isEmpty() ? "" : "?" + query.entrySet().stream()
                    .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                    .collect(Collectors.joining("&"));
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path + queryString))
                    .timeout(Duration.ofSeconds(20));
            if (key != null) {
                request.header("Authorization", "Bearer " + key);
            }
            if (body != null) {
                request.header("Content-Type", contentType)
                        .method(method.name(), HttpRequest.BodyPublishers.ofString(body));
            } else {
                request.method(method.name(), HttpRequest.BodyPublishers.noBody());
            }
            return request.build();
        }

        @Override
        public String toString() {
            String shown = body == null ? "" : " " + (body.length() > 80 ? body.substring(0, 80) + "..." : body);
            return method + " " + path + (query.isEmpty() ? "" : " " + new LinkedHashMap<>(query)) + shown;
        }
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    private static String join(String base, String path) {
        if (path == null || path.isEmpty() || path.equals("/")) {
            return base;
        }
        return (base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + (path.startsWith("/") ? path : "/" + path);
    }
}
