package com.mailrelay.routing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import com.mailrelay.support.RelayTestSupport;
import org.apache.camel.CamelContext;
import org.junit.jupiter.api.AfterEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The relay of the route-file tests (one Spring context for all of them): a copy of test-routes/
 * in a temporary folder, watched every 200 ms, uploads allowed, and an empty templates folder of
 * its own. After each test the copy is put back as it was and the templates folder emptied. The
 * console's Routes page test shares it (console/ConsoleRoutesBrowserTest).
 */
@TestPropertySource(properties = {"relay.routes.reload-enabled=true", "relay.routes.reload-interval=200ms",
        "relay.routes.upload-enabled=true"})
public abstract class RouteFilesTestSupport extends RelayTestSupport {

    protected static final Path ROUTES = copyOfTestRoutes();
    static final Path TEMPLATES = emptyFolder("relay-templates");
    protected static final String ADMIN = "admin-key";

    @DynamicPropertySource
    static void routesDirectory(DynamicPropertyRegistry registry) {
        registry.add("relay.routes.directory", ROUTES::toString);
        registry.add("relay.routes.templates-directory", TEMPLATES::toString);
    }

    @Autowired
    protected CamelContext camel;

    @Autowired
    protected RouteFiles routeFiles;

    @Autowired
    TemplateFiles templateFiles;

    final String dispatch = readFile("dispatch.camel.yaml");
    final String providers = readFile("providers.camel.yaml");

    @AfterEach
    void restoreTheRoutes() throws IOException {
        // A deletion is always taken up; dispatch and providers then load against what remains.
        Files.deleteIfExists(ROUTES.resolve("extra.camel.yaml"));
        write("dispatch.camel.yaml", dispatch);
        write("providers.camel.yaml", providers);
        // A template goes once no route file uses it any more: after the next scans.
        try (var files = Files.list(TEMPLATES)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        awaitLoadedWithoutErrors();
        assertThat(templateFiles.status()).isEmpty();
    }

    HttpResponse<String> upload(String file, String yaml) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/routes/" + file))
                .header("Authorization", "Bearer " + ADMIN).header("Content-Type", "application/yaml")
                .PUT(HttpRequest.BodyPublishers.ofString(yaml)).build());
    }

    String adminGet(String path) {
        return send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + ADMIN).GET().build()).body();
    }

    protected void awaitLoadedWithoutErrors() {
        // Loaded means: the files on disk are the ones in use, without error.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            routeFiles.scan();
            assertThat(routeFiles.status()).allMatch(file -> file.lastError() == null);
            assertThat(templateFiles.status()).allMatch(file -> file.lastError() == null);
        });
    }

    /** Waits for the file's load to fail with an error that mentions {@code expected}, and returns it. */
    String awaitError(String file, String expected) {
        return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() ->
                routeFiles.status().stream().filter(s -> s.file().equals(file) && s.lastError() != null)
                        .map(RouteFileStatus::lastError).findFirst().orElse(""), error -> error.contains(expected));
    }

    /** Waits for the template file's load to fail with an error that mentions {@code expected}, and returns it. */
    String awaitTemplateError(String file, String expected) {
        return await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() ->
                templateFiles.status().stream().filter(s -> s.file().equals(file) && s.lastError() != null)
                        .map(RouteFileStatus::lastError).findFirst().orElse(""), error -> error.contains(expected));
    }

    static void writeTemplate(String file, String content) {
        try {
            Files.writeString(TEMPLATES.resolve(file), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    protected static int lineOf(String content, String text) {
        String[] lines = content.split("\\R");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(text)) {
                return i + 1;
            }
        }
        throw new AssertionError(text + " not in the file");
    }

    protected static void write(String file, String content) {
        try {
            Files.writeString(ROUTES.resolve(file), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    protected static String readFile(String file) {
        try {
            return Files.readString(ROUTES.resolve(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path emptyFolder(String prefix) {
        try {
            return Files.createTempDirectory(prefix);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path copyOfTestRoutes() {
        try {
            Path folder = Files.createTempDirectory("relay-routes");
            try (var files = Files.list(Path.of("src/test/resources/test-routes"))) {
                for (Path file : files.toList()) {
                    Files.copy(file, folder.resolve(file.getFileName()));
                }
            }
            return folder;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
