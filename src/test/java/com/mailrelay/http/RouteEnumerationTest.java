package com.mailrelay.http;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import com.mailrelay.support.RelayTestSupport;
import org.apache.camel.CamelContext;
import org.apache.camel.component.platform.http.HttpEndpointModel;
import org.apache.camel.component.platform.http.PlatformHttpComponent;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.actuate.endpoint.web.PathMappedEndpoints;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every HTTP route the relay serves, called without credentials, is refused (401/403) — but the
 * documented public ones: tracking (/t/o, /t/c), unsubscribe (/u), provider events in
 * (/api/v1/inbound, signed by the provider: 401 invalid_signature or 404 count as refused too),
 * health and the API's OpenAPI document. The list is read from the running relay — platform-http's registered endpoints (every REST
 * DSL and platform-http route) and actuator's mapped endpoints — so a route added later is called
 * here without anyone listing it.
 */
class RouteEnumerationTest extends RelayTestSupport {

    private static final List<String> PUBLIC = List.of("/t/o/", "/t/c/", "/u/", "/api/v1/inbound/", "/actuator/health",
            "/api/v1/openapi.json", "/api/v1/openapi.yaml");

    @Autowired
    CamelContext camel;

    @Autowired
    PathMappedEndpoints actuator;

    record Call(String method, String path) {
    }

    @Test
    void everyRouteRefusesAnonymousCallersButThePublicOnes() {
        List<Call> calls = calls();
        Set<String> paths = new TreeSet<>();
        calls.forEach(call -> paths.add(call.method() + " " + call.path()));
        // The enumeration itself works: routes of every kind are in it.
        assertThat(paths).contains("POST /api/v1/messages", "GET /api/v1/messages/x", "PUT /api/v1/routes/x",
                "GET /api/v1/recipients", "GET /api/v1/webhooks/failed", "POST /api/v1/inbound/x/mailgun",
                "GET /t/o/x", "POST /u/x", "GET /actuator/prometheus", "GET /actuator/health");

        List<String> problems = new ArrayList<>();
        for (Call call : calls) {
            HttpResponse<String> response = call(call);
            int status = response.statusCode();
            boolean open = PUBLIC.stream().anyMatch(call.path()::startsWith);
            if (open) {
                if (status >= 500) {
                    problems.add(call + " (public) answered " + status + ": " + response.body());
                }
            } else if (status != 401 && status != 403) {
                problems.add(call + " answered " + status + " without credentials: " + response.body());
            }
        }
        assertThat(problems).as("routes reachable without credentials").isEmpty();
    }

    /**
     * Every path served, path parameters filled with "x", with every method: the registry keeps one
     * verb per path when two routes share it (GET and PUT /api/v1/recipients/{email}), and a method
     * nobody serves must be refused just the same.
     */
    private List<Call> calls() {
        List<Call> calls = new ArrayList<>();
        PlatformHttpComponent http = camel.getComponent("platform-http", PlatformHttpComponent.class);
        for (HttpEndpointModel endpoint : http.getHttpEndpoints()) {
            String path = endpoint.getUri().replaceAll("\\{[^}]+}", "x");
            for (String verb : List.of("GET", "POST", "PUT", "DELETE", "PATCH")) {
                calls.add(new Call(verb, path));
            }
        }
        calls.add(new Call("GET", actuator.getBasePath()));
        for (String path : actuator.getAllPaths()) {
            calls.add(new Call("GET", path));
            calls.add(new Call("GET", path + "/x"));
            calls.add(new Call("POST", path));
        }
        return calls;
    }

    private HttpResponse<String> call(Call call) {
        String contentType = call.path().startsWith("/api/v1/routes/") ? "application/yaml"
                : call.path().startsWith("/u/") ? "application/x-www-form-urlencoded" : "application/json";
        String body = contentType.equals("application/json") ? "{}" : "a=b";
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + call.path()))
                .timeout(Duration.ofSeconds(20));
        if (call.method().equals("GET") || call.method().equals("DELETE")) {
            request.method(call.method(), HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", contentType).method(call.method(), HttpRequest.BodyPublishers.ofString(body));
        }
        return send(request.build());
    }
}
