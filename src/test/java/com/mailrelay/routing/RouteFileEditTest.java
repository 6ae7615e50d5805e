package com.mailrelay.routing;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Editing a route file over HTTP: reading its current text ({@code GET /api/v1/routes/files/{file}})
 * and checking a version of it without saving ({@code POST .../validate}), which gives the reason
 * with its line (and column) and writes and loads nothing, as an upload of it would.
 */
class RouteFileEditTest extends RouteFilesTestSupport {

    private static final String EXTRA = "- route:\n    id: extra-edit\n    from:\n      uri: direct:extra-edit\n"
            + "      steps:\n        - to: direct:provider-default\n";

    @Test
    void aFileIsReadAsItIsOnDiskWithItsLastLoad() {
        HttpResponse<String> response = call("GET", "/api/v1/routes/files/dispatch.camel.yaml", null, ADMIN);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        Map<String, Object> file = read(response.body());
        assertThat(file.get("file")).isEqualTo("dispatch.camel.yaml");
        assertThat(file.get("content")).isEqualTo(dispatch);
        assertThat(file.get("routes").toString()).contains("dispatch");
        assertThat(file.get("last_reload_at")).isNotNull();
        assertThat(file.get("sha256")).asString().hasSize(64);

        assertThat(call("GET", "/api/v1/routes/files/nosuch.camel.yaml", null, ADMIN).statusCode()).isEqualTo(404);
        HttpResponse<String> badName = call("GET", "/api/v1/routes/files/Dispatch.yaml", null, ADMIN);
        assertThat(badName.statusCode()).isEqualTo(400);
        assertThat(badName.body()).contains("invalid_file_name");
        assertThat(call("GET", "/api/v1/routes/files/dispatch.camel.yaml", null, key("w-routes")).statusCode())
                .isEqualTo(401);
        assertThat(read(adminGet("/api/v1/routes")).get("upload_enabled")).isEqualTo(true);
    }

    @Test
    void aBrokenVersionIsReportedWithItsLineAndNothingIsWrittenOrLoaded() {
        String broken = EXTRA.replace("direct:provider-default", "nosuch:x");
        Map<String, Object> check = validate("extra.camel.yaml", broken);
        assertThat(check.get("valid")).isEqualTo(false);
        assertThat((String) check.get("message")).contains("extra.camel.yaml").contains("nosuch");
        assertThat(check.get("line")).isEqualTo(lineOf(broken, "nosuch:x"));

        // YAML that does not parse: the parser's line and column
        String unparsable = "- route:\n    id: extra-edit\n   from: [\n";
        Map<String, Object> syntax = validate("extra.camel.yaml", unparsable);
        assertThat(syntax.get("valid")).isEqualTo(false);
        assertThat(syntax.get("line")).as((String) syntax.get("message")).isNotNull();
        assertThat(syntax.get("column")).as((String) syntax.get("message")).isNotNull();

        // an edit of a loaded file that would break it: refused, and the file and its routes stay
        String dispatchBroken = dispatch.replace("direct:chain-mailgun", "direct:chain-nowhere");
        Map<String, Object> edit = validate("dispatch.camel.yaml", dispatchBroken);
        assertThat(edit.get("valid")).isEqualTo(false);
        assertThat((String) edit.get("message")).contains("chain-nowhere");
        assertThat(readFile("dispatch.camel.yaml")).isEqualTo(dispatch);

        assertThat(Files.exists(ROUTES.resolve("extra.camel.yaml"))).isFalse();
        assertThat(camel.getRoute("extra-edit")).isNull();
    }

    @Test
    void aValidVersionIsReportedValidWithItsRoutesAndStillNothingIsWritten() {
        Map<String, Object> check = validate("extra.camel.yaml", EXTRA);
        assertThat(check.get("valid")).as(String.valueOf(check.get("message"))).isEqualTo(true);
        assertThat(check.get("routes")).isEqualTo(List.of("extra-edit"));
        assertThat(check.get("message")).isNull();
        assertThat(Files.exists(ROUTES.resolve("extra.camel.yaml"))).isFalse();
        assertThat(camel.getRoute("extra-edit")).isNull();

        String big = "# " + "x".repeat(RouteFileEditor.MAX_BYTES) + "\n" + EXTRA;
        HttpResponse<String> tooLarge = call("POST", "/api/v1/routes/files/extra.camel.yaml/validate", big, ADMIN);
        assertThat(tooLarge.statusCode()).isEqualTo(413);
        assertThat(call("POST", "/api/v1/routes/files/extra.camel.yaml/validate", EXTRA, key("w-routes")).statusCode())
                .isEqualTo(401);
    }

    @Test
    void theLineAndColumnAreReadFromTheReason() {
        assertThat(RouteFileEditor.place("extra.camel.yaml, line 6: no route consumes direct:x"))
                .containsExactly(6, null);
        assertThat(RouteFileEditor.place("extra.camel.yaml: while parsing — in 'reader', line 3, column 4:"))
                .containsExactly(3, 4);
        assertThat(RouteFileEditor.place("extra.camel.yaml: the file has no routes")).containsExactly(null, null);
    }

    private Map<String, Object> validate(String file, String yaml) {
        HttpResponse<String> response = call("POST", "/api/v1/routes/files/" + file + "/validate", yaml, ADMIN);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return read(response.body());
    }

    private HttpResponse<String> call(String method, String path, String yaml, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + key);
        if (yaml == null) {
            request.method(method, HttpRequest.BodyPublishers.noBody());
        } else {
            request.header("Content-Type", "application/yaml").method(method, HttpRequest.BodyPublishers.ofString(yaml));
        }
        return send(request.build());
    }
}
