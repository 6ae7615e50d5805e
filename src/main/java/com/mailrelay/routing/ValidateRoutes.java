package com.mailrelay.routing;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.mailrelay.MailRelayApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Checks a folder of route files the way a running relay would load them, without running one:
 * no web server, no SMTP server, no queue workers, a throwaway in-memory database. For CI and for
 * engineers before they deploy:
 * <pre>./mvnw -q compile exec:java@validate-routes                       (checks routes/)
 * ./mvnw -q compile exec:java@validate-routes -Dexec.args=compose/routes</pre>
 * Prints one line per file and exits 1 if any file would not load. The operator's templates beside
 * the folder ({@code templates/}, relay.routes.templates-directory's default) are checked too, and
 * listed first, with their folder in their name.
 */
public final class ValidateRoutes {

    private ValidateRoutes() {
    }

    public static void main(String[] args) {
        Path directory = Path.of(args.length > 0 ? args[0] : "routes");
        List<RouteFileStatus> results = check(directory);
        results.forEach(result -> System.out.println(result.lastError() == null
                ? "OK     " + result.file() + " " + result.routes()
                : "ERROR  " + result.lastError()));
        boolean failed = results.isEmpty() || results.stream().anyMatch(result -> result.lastError() != null);
        if (results.isEmpty()) {
            System.out.println("ERROR  no *" + RouteFiles.SUFFIX + " files in " + directory);
        }
        System.exit(failed ? 1 : 0);
    }

    /** Loads the templates and every route file of the folder into a relay that does nothing else, and reports. */
    public static List<RouteFileStatus> check(Path directory) {
        if (!Files.isDirectory(directory)) {
            throw new IllegalArgumentException(directory + " is not a folder");
        }
        try (ConfigurableApplicationContext relay = new SpringApplicationBuilder(MailRelayApplication.class)
                .web(WebApplicationType.NONE)
                .logStartupInfo(false)
                .run("--relay.routes.directory=" + directory,
                        "--relay.routes.reload-enabled=false",
                        "--relay.worker.enabled=false",
                        "--relay.smtp.enabled=false",
                        "--spring.datasource.url=jdbc:h2:mem:validate-routes;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE",
                        "--logging.level.root=WARN",
                        "--logging.level.com.mailrelay.routing=OFF",
                        "--logging.level.org.apache.camel.spring.boot=ERROR",
                        "--spring.main.banner-mode=off")) {
            TemplateFiles templates = relay.getBean(TemplateFiles.class);
            List<RouteFileStatus> results = new ArrayList<>();
            for (RouteFileStatus template : templates.status()) {
                String file = templates.directory().getFileName() + "/" + template.file();
                results.add(new RouteFileStatus(file, template.routes(), template.lastReloadAt(),
                        template.lastError() == null ? null : templates.directory().getFileName() + "/"
                                + template.lastError()));
            }
            results.addAll(relay.getBean(RouteFiles.class).status());
            return results;
        }
    }
}
