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
}
