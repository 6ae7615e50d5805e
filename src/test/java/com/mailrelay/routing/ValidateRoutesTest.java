package com.mailrelay.routing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

/** The route-file check that CI and engineers run before deploying (exec:java@validate-routes). */
class ValidateRoutesTest {

    /** routes/ (the embedded default) and compose/routes/ (docker-compose.yml's RELAY_ROUTES_DIRECTORY). */
    @ParameterizedTest
    @ValueSource(strings = {"routes", "compose/routes"})
    void theShippedRoutesAreValid(String folder) {
        List<RouteFileStatus> results = ValidateRoutes.check(Path.of(folder));
        assertThat(results).extracting(RouteFileStatus::file)
                .containsExactly("dispatch.camel.yaml", "providers.camel.yaml");
        assertThat(results).allMatch(result -> result.lastError() == null);
    }

    @Test
    void theOfflineCheckAppliesTheAllowList(@TempDir Path folder) throws IOException {
        Files.copy(Path.of("routes/providers.camel.yaml"), folder.resolve("providers.camel.yaml"));
        Files.writeString(folder.resolve("dispatch.camel.yaml"),
                Files.readString(Path.of("routes/dispatch.camel.yaml")) + """

                        - route:
                            id: leak
                            from:
                              uri: "file:.?fileName=application.yml&noop=true"
                              steps:
                                - to: direct:chain-default
                        """);
        Files.writeString(folder.resolve("missing.camel.yaml"), """
                - route:
                    id: missing
                    from:
                      uri: direct:missing
                      steps:
                        - to: direct:provider-nowhere
                """);
        List<RouteFileStatus> results = ValidateRoutes.check(folder);
        assertThat(results).filteredOn(result -> result.file().equals("dispatch.camel.yaml")).singleElement()
                .satisfies(result -> assertThat(result.lastError()).contains("'file' is not allowed"));
        assertThat(results).filteredOn(result -> result.file().equals("missing.camel.yaml")).singleElement()
                .satisfies(result -> assertThat(result.lastError())
                        .startsWith("missing.camel.yaml, line 6").contains("no route consumes direct:provider-nowhere"));
    }

    @Test
    void aBrokenFileIsReportedWithItsReason(@TempDir Path folder) throws IOException {
        Files.copy(Path.of("routes/providers.camel.yaml"), folder.resolve("providers.camel.yaml"));
        Files.writeString(folder.resolve("dispatch.camel.yaml"),
                Files.readString(Path.of("routes/dispatch.camel.yaml")).replace("direct:provider-outbox", "nosuch:thing"));
        List<RouteFileStatus> results = ValidateRoutes.check(folder);
        assertThat(results).filteredOn(result -> result.file().equals("dispatch.camel.yaml"))
                .singleElement().satisfies(result -> assertThat(result.lastError()).contains("nosuch"));
        assertThat(results).filteredOn(result -> result.file().equals("providers.camel.yaml"))
                .singleElement().satisfies(result -> assertThat(result.lastError()).isNull());
    }

    @Test
    void theTemplatesBesideTheFolderAreCheckedBeforeItsFiles(@TempDir Path folder) throws IOException {
        Path routes = Files.createDirectory(folder.resolve("routes"));
        Path templates = Files.createDirectory(folder.resolve("templates"));
        String outbox = Files.readString(Path.of("src/main/resources/templates/outbox.kamelet.yaml"));
        Files.writeString(templates.resolve("pigeon.kamelet.yaml"), outbox.replace("  name: outbox\n", "  name: pigeon\n"));
        String leaky = outbox.replace("  name: outbox\n", "  name: leaky\n")
                .replaceFirst("uri: \"file:[^\"]*\"", "uri: \"exec:sh\"");
        Files.writeString(templates.resolve("leaky.kamelet.yaml"), leaky);
        Files.copy(Path.of("routes/dispatch.camel.yaml"), routes.resolve("dispatch.camel.yaml"));
        Files.writeString(routes.resolve("providers.camel.yaml"), Files.readString(Path.of("routes/providers.camel.yaml"))
                .replace("routeTemplateRef: outbox", "routeTemplateRef: pigeon"));

        List<RouteFileStatus> results = ValidateRoutes.check(routes);
        assertThat(results).extracting(RouteFileStatus::file).containsExactly("templates/leaky.kamelet.yaml",
                "templates/pigeon.kamelet.yaml", "dispatch.camel.yaml", "providers.camel.yaml");
        assertThat(results.get(0).lastError()).startsWith("templates/leaky.kamelet.yaml, line "
                + RouteFilesTestSupport.lineOf(leaky, "- to:")).contains("'exec' is not allowed");
        assertThat(results.subList(1, 4)).allMatch(result -> result.lastError() == null);
        assertThat(results.get(1).routes()).containsExactly("pigeon");
    }
}
