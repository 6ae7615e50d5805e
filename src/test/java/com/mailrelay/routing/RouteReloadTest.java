package com.mailrelay.routing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.mailrelay.support.RelayTestSupport;
import com.mailrelay.support.Upstreams;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Editing route files under a running relay (see {@link RouteFilesTestSupport}). */
class RouteReloadTest extends RouteFilesTestSupport {

    @Test
    void anEditedRouterTakesEffectWithoutARestart() {
        String before = submit("acme", message("app@acme.test", "nia@customer.test", "before the edit"));
        awaitStatus(before, "SENT");
        assertThat(row(before).get("provider_id")).isEqualTo("acme-transactional");

        write("dispatch.camel.yaml", dispatch.replace("- to: direct:provider-acme-transactional",
                "- to: direct:provider-globex-marketing"));
        awaitLoadedWithoutErrors();

        String after = submit("acme", message("app@acme.test", "nia@customer.test", "after the edit"));
        awaitStatus(after, "SENT");
        assertThat(row(after).get("provider_id")).isEqualTo("globex-marketing");
        assertThat(Upstreams.received(Upstreams.greenMail("globex-marketing"), after)).hasSize(1);
    }

    @Test
    void brokenEditsKeepThePreviousRoutesRunningAndSayWhy() {
        // Bad YAML.
        write("dispatch.camel.yaml", dispatch.replace("      uri: direct:dispatch", "      uri: [direct:dispatch"));
        assertThat(awaitError("dispatch.camel.yaml", "while parsing")).contains("dispatch.camel.yaml").contains("line 5");
        stillDelivers("after bad yaml");

        // Valid YAML, a component that is not on the allow-list (nor on the class path).
        write("dispatch.camel.yaml", dispatch.replace("- to: direct:provider-acme-transactional",
                "- to: nosuchcomponent:somewhere"));
        assertThat(awaitError("dispatch.camel.yaml", "nosuchcomponent"))
                .startsWith("dispatch.camel.yaml, line " + lineOf(readFile("dispatch.camel.yaml"), "nosuchcomponent"))
                .contains("the endpoint scheme 'nosuchcomponent' is not allowed");
        stillDelivers("after unknown component");

        // A new file whose route id is already taken.
        write("extra.camel.yaml", """
                - route:
                    id: dispatch
                    from:
                      uri: direct:another-dispatch
                      steps:
                        - to: direct:provider-default
                """);
        assertThat(awaitError("extra.camel.yaml", "duplicate route id 'dispatch'"))
                .startsWith("extra.camel.yaml, line 2").contains("already used by dispatch.camel.yaml");
        stillDelivers("after duplicate id");

        // A templated route naming a template that does not exist.
        write("extra.camel.yaml", """
                - templatedRoute:
                    routeTemplateRef: carrier-pigeon
                    routeId: provider-pigeon
                """);
        assertThat(awaitError("extra.camel.yaml", "carrier-pigeon")).contains("does not exist");

        // A route consuming an endpoint another file's route consumes.
        write("extra.camel.yaml", """
                - route:
                    id: second-dispatch
                    from:
                      uri: direct:dispatch
                      steps:
                        - to: direct:provider-default
                """);
        assertThat(awaitError("extra.camel.yaml", "already consumes")).contains("second-dispatch")
                .contains("route dispatch (dispatch.camel.yaml)");

        // A provider whose template parameters cannot make an endpoint: the running providers stay.
        write("providers.camel.yaml", providers.replaceFirst("value: \"\\{\\{test.upstream.default.port}}\"",
                "value: \"not-a-port\""));
        assertThat(awaitError("providers.camel.yaml", "not-a-port")).contains("route provider-default");
        assertThat(camel.getRoute("provider-default")).isNotNull();
        stillDelivers("after a bad provider parameter");
        write("providers.camel.yaml", providers);

        // An empty file (a save caught half-way) does not remove the routes it had.
        write("dispatch.camel.yaml", "");
        assertThat(awaitError("dispatch.camel.yaml", "empty")).startsWith("dispatch.camel.yaml");
        stillDelivers("after an empty save");

        // The errors are visible through the API, and fixing the files clears them.
        var overview = read(adminGet("/api/v1/routes"));
        assertThat(overview.get("files").toString()).contains("empty").contains("already consumes");
        Map<?, ?> dispatchRoute = ((List<?>) overview.get("routes")).stream().map(r -> (Map<?, ?>) r)
                .filter(r -> "dispatch".equals(r.get("id"))).findFirst().orElseThrow();
        assertThat(dispatchRoute.get("state")).isEqualTo("Started");
        assertThat(String.valueOf(dispatchRoute.get("last_reload_error"))).contains("empty");
        assertThat(dispatchRoute.get("last_reload_at")).isNotNull();
        write("dispatch.camel.yaml", dispatch);
        write("extra.camel.yaml", """
                - route:
                    id: extra
                    from:
                      uri: direct:extra
                      steps:
                        - to: direct:provider-default
                """);
        awaitLoadedWithoutErrors();
        assertThat(camel.getRoute("extra")).isNotNull();
        stillDelivers("after the fix");
    }

    @Test
    void javaRoutesSurviveTenReloads() {
        for (int i = 0; i < 10; i++) {
            write("dispatch.camel.yaml", dispatch + "\n# edit " + i + "\n");
            awaitLoadedWithoutErrors();
        }
        for (String javaRoute : List.of("queue-poll", "deliver", "defer", "dead-letter", "accept", "accept-database",
                "rest-submit", "route-files", "routes-list")) {
            assertThat(camel.getRoute(javaRoute)).as(javaRoute).isNotNull();
        }
        stillDelivers("after ten reloads");
    }

    @Test
    void reloadsDuringAStreamOfFiveHundredMessagesLoseAndRepeatNothing() throws Exception {
        String run = "stream-" + System.nanoTime();
        ExecutorService sender = Executors.newSingleThreadExecutor();
        try {
            Future<List<String>> submitted = sender.submit(() -> {
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < 500; i++) {
                    ids.add(submit("acme", message("app@acme.test", "stream@customer.test", run + " " + i)));
                }
                return ids;
            });
            // Reload the router three times while the messages flow.
            for (int i = 0; i < 3; i++) {
                long reached = 100L * (i + 1);
                await().atMost(Duration.ofSeconds(30)).until(() -> countSubject(run) >= reached);
                write("dispatch.camel.yaml", dispatch + "\n# during the stream " + i + "\n");
                awaitLoadedWithoutErrors();
            }
            List<String> ids = submitted.get();
            assertThat(ids).hasSize(500);
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250)).until(() ->
                    jdbc.queryForObject("select count(*) from messages where subject like ? and status = 'SENT'",
                            Long.class, run + "%") == 500);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                Map<String, Long> copies = ids.stream().collect(Collectors.toMap(Function.identity(),
                        id -> (long) Upstreams.received(Upstreams.greenMail("acme-transactional"), id).size()));
                assertThat(copies.values()).allMatch(n -> n == 1);
            });
            assertThat(jdbc.queryForObject("select count(*) from events e join messages m on m.id = e.message_id "
                    + "where m.subject like ? and e.type = 'send'", Long.class, run + "%")).isEqualTo(500);
        } finally {
            sender.shutdownNow();
        }
    }

    @Test
    void theManagementApiNeedsTheAdminKey() {
        var response = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/routes"))
                .header("Authorization", "Bearer " + key("acme")).GET().build());
        assertThat(response.statusCode()).isEqualTo(401);
        var overview = read(adminGet("/api/v1/routes"));
        assertThat(overview.get("routes").toString()).contains("id=dispatch").contains("source=dispatch.camel.yaml")
                .contains("id=deliver").contains("source=java");
    }

    @Test
    void uploadedFilesAreWrittenOnlyWhenValid() throws IOException {
        String broken = "- route:\n    id: extra\n    from:\n      uri: direct:extra\n      steps:\n        - to: nosuch:x\n";
        var refused = upload("extra.camel.yaml", broken);
        assertThat(refused.statusCode()).isEqualTo(422);
        assertThat(refused.body()).contains("invalid_routes").contains("nosuch");
        assertThat(Files.exists(ROUTES.resolve("extra.camel.yaml"))).isFalse();
        // Normalised to /api/v1/escape.camel.yaml: no route of the admin key's, so refused before any route.
        assertThat(upload("../escape.camel.yaml", broken).statusCode()).isIn(400, 401, 404);
        assertThat(Files.exists(ROUTES.getParent().resolve("escape.camel.yaml"))).isFalse();

        var accepted = upload("extra.camel.yaml", broken.replace("nosuch:x", "direct:provider-default"));
        assertThat(accepted.statusCode()).as(accepted.body()).isEqualTo(200);
        assertThat(Files.readString(ROUTES.resolve("extra.camel.yaml"))).contains("direct:provider-default");
        assertThat(camel.getRoute("extra")).isNotNull();
    }

    private void stillDelivers(String subject) {
        String id = submit("acme", message("app@acme.test", "olga@customer.test", subject));
        awaitStatus(id, "SENT");
        assertThat(row(id).get("provider_id")).isEqualTo("acme-transactional");
    }

    private long countSubject(String prefix) {
        return jdbc.queryForObject("select count(*) from messages where subject like ?", Long.class, prefix + "%");
    }

}
