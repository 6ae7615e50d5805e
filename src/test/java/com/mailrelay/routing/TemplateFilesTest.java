package com.mailrelay.routing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.mailrelay.support.Upstreams;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Provider templates: the built-in Kamelets and an operator's own in the templates folder —
 * listed with their parameters (secrets marked, never shown), usable from providers.camel.yaml,
 * and checked against the allow-list with file and line (see {@link RouteFilesTestSupport}).
 */
class TemplateFilesTest extends RouteFilesTestSupport {

    /** The built-in smtp template under another id: what an operator starts a template of their own from. */
    private static final String PIGEON = builtIn("smtp.kamelet.yaml")
            .replace("  name: smtp\n", "  name: pigeon\n")
            .replace("\"250 accepted by {{host}}:{{port}}\"", "\"250 carried by pigeon to {{host}}:{{port}}\"")
            .replace("        format: password\n", "        format: password\n        default: hunter2-default\n");

    private static final String PIGEON_PROVIDER = """

            - templatedRoute:
                routeTemplateRef: pigeon
                routeId: provider-pigeon
                parameters:
                  - name: providerId
                    value: pigeon
                  - name: host
                    value: 127.0.0.1
                  - name: port
                    value: "{{test.upstream.acme-marketing.port}}"
                  - name: timeoutMillis
                    value: "5000"
            """;

    @Test
    @SuppressWarnings("unchecked")
    void theListingShowsEveryTemplatesParametersWithSecretsMarkedAndNoSecretValue() {
        writeTemplate("pigeon.kamelet.yaml", PIGEON);
        awaitLoadedWithoutErrors();

        String body = adminGet("/api/v1/routes/templates");
        List<Map<String, Object>> templates = (List<Map<String, Object>>) read(body).get("templates");
        // The jar's templates (one per provider type) in name order, then the folder's.
        assertThat(templates).extracting(t -> t.get("id"))
                .containsSubsequence("gmail", "mailgun", "outbox", "postmark", "sendgrid", "ses", "smtp", "pigeon")
                .endsWith("pigeon").doesNotHaveDuplicates();
        Map<String, Object> smtp = template(templates, "smtp");
        assertThat(smtp).containsEntry("source", "jar").containsEntry("file", "smtp.kamelet.yaml")
                .containsEntry("title", "SMTP upstream");
        assertThat(parameter(smtp, "host")).containsEntry("title", "Host").containsEntry("required", true)
                .containsEntry("secret", false).doesNotContainKey("default");
        assertThat(parameter(smtp, "port")).containsEntry("default", "25").containsEntry("required", false)
                .containsEntry("description", "upstream port (587 submission, 465 with scheme smtps)");
        assertThat(parameter(smtp, "password")).containsEntry("secret", true).containsEntry("title", "Password")
                .containsEntry("required", false).doesNotContainKey("default");
        assertThat(parameter(smtp, "username")).containsEntry("secret", false);
        assertThat(parameter(smtp, "deadlineMillis"))
                .containsEntry("default", "{{relay.provider.attempt-deadline-millis}}");
        assertThat(parameter(template(templates, "outbox"), "directory")).containsEntry("default", "data/outbox");

        Map<String, Object> pigeon = template(templates, "pigeon");
        assertThat(pigeon).containsEntry("source", "file").containsEntry("file", "pigeon.kamelet.yaml");
        assertThat(parameter(pigeon, "password")).containsEntry("secret", true).doesNotContainKey("default");
        // No secret's value anywhere: not a template's default, not an instance's (test-routes' secure provider).
        for (String listing : List.of(body, adminGet("/api/v1/routes"))) {
            assertThat(listing).doesNotContain("hunter2").doesNotContain("s3c+r&t").doesNotContain("wrong-password");
        }
        // Admin only, like the rest of the routes API.
        assertThat(send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/routes/templates"))
                .GET().build()).statusCode()).isEqualTo(401);
    }

    @Test
    void aTemplateOfTheTemplatesFolderIsUsableFromTheProvidersFile() {
        writeTemplate("pigeon.kamelet.yaml", PIGEON);
        write("providers.camel.yaml", providers + PIGEON_PROVIDER);
        write("dispatch.camel.yaml", dispatch.replace("- to: direct:provider-acme-transactional",
                "- to: direct:provider-pigeon"));
        awaitLoadedWithoutErrors();
        assertThat(camel.getRoute("provider-pigeon")).isNotNull();

        String id = submit("acme", message("app@acme.test", "nia@customer.test", "by pigeon"));
        awaitStatus(id, "SENT");
        assertThat(row(id)).containsEntry("provider_id", "pigeon");
        assertThat(Upstreams.received(Upstreams.greenMail("acme-marketing"), id)).hasSize(1);

        // An edited template is taken up by the route files that use it, on the next reload.
        writeTemplate("pigeon.kamelet.yaml", PIGEON.replace("250 carried by pigeon", "250 flown by pigeon"));
        awaitLoadedWithoutErrors();
        String again = submit("acme", message("app@acme.test", "nia@customer.test", "by pigeon again"));
        awaitStatus(again, "SENT");
        assertThat(String.valueOf(row(again).get("last_error"))).contains("flown by pigeon");

        // Deleted while providers.camel.yaml uses it: kept, and said so.
        deleteTemplate("pigeon.kamelet.yaml");
        routeFiles.scan();
        assertThat(templateFiles.status()).singleElement().satisfies(status ->
                assertThat(status.lastError()).contains("still used by a route file"));
        assertThat(camel.getRoute("provider-pigeon")).isNotNull();
    }

    @Test
    void aTemplateTheAllowListRefusesIsNamedWithFileAndLineAndNeverUsed() {
        String leaky = minimal("leaky", "        - to: \"exec:sh?args=-c id\"\n");
        writeTemplate("leaky.kamelet.yaml", leaky);
        assertThat(awaitTemplateError("leaky.kamelet.yaml", "'exec' is not allowed"))
                .startsWith("leaky.kamelet.yaml, line " + lineOf(leaky, "exec:sh"));
        assertThat(((org.apache.camel.model.ModelCamelContext) camel).getRouteTemplateDefinition("leaky")).isNull();

        // Beans are refused on the plain YAML, before Camel could read them.
        String beans = minimal("leaky", "        - to: direct:x\n").replace("  template:\n",
                "  template:\n    beans:\n      - name: recorder\n        type: com.mailrelay.routing.ConstructionRecorder\n");
        writeTemplate("leaky.kamelet.yaml", beans);
        assertThat(awaitTemplateError("leaky.kamelet.yaml", "'beans' is not allowed"))
                .startsWith("leaky.kamelet.yaml, line " + lineOf(beans, "beans:"));

        // A template may call the provider beans, and no other.
        String other = minimal("leaky", "        - bean:\n            ref: routeFiles\n            method: scan\n");
        writeTemplate("leaky.kamelet.yaml", other);
        assertThat(awaitTemplateError("leaky.kamelet.yaml", "not 'routeFiles'"))
                .startsWith("leaky.kamelet.yaml, line " + lineOf(other, "- bean:"));

        // Nor may it take a built-in template's id.
        String taken = minimal("smtp", "        - to: direct:x\n");
        writeTemplate("leaky.kamelet.yaml", taken);
        assertThat(awaitTemplateError("leaky.kamelet.yaml", "already taken by a template of the relay itself"))
                .startsWith("leaky.kamelet.yaml, line " + lineOf(taken, "name: smtp"));

        // The relay runs on, and a route file cannot use the refused template.
        write("extra.camel.yaml", """
                - templatedRoute:
                    routeTemplateRef: leaky
                    routeId: provider-leaky
                    parameters:
                      - name: providerId
                        value: leaky
                """);
        assertThat(awaitError("extra.camel.yaml", "'leaky', which does not exist")).startsWith("extra.camel.yaml, line 2");
        String id = submit("acme", message("app@acme.test", "olga@customer.test", "after a refused template"));
        awaitStatus(id, "SENT");
        deleteRouteFile("extra.camel.yaml");
    }

    private static String minimal(String id, String steps) {
        return """
                apiVersion: camel.apache.org/v1
                kind: Kamelet
                metadata:
                  name: %s
                spec:
                  definition:
                    title: A template of the operator's
                    required: [providerId]
                    properties:
                      providerId:
                        title: Provider id
                        type: string
                  template:
                    from:
                      uri: "direct:provider-{{providerId}}"
                      steps:
                """.formatted(id) + steps;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> template(List<Map<String, Object>> templates, String id) {
        return templates.stream().filter(t -> id.equals(t.get("id"))).findFirst().orElseThrow();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parameter(Map<String, Object> template, String name) {
        return ((List<Map<String, Object>>) template.get("parameters")).stream()
                .filter(p -> name.equals(p.get("name"))).findFirst().orElseThrow();
    }

    private static void deleteTemplate(String file) {
        delete(TEMPLATES.resolve(file));
    }

    private static void deleteRouteFile(String file) {
        delete(ROUTES.resolve(file));
    }

    private static void delete(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String builtIn(String file) {
        try {
            return Files.readString(Path.of("src/main/resources/templates", file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
