package com.mailrelay.routing;

import java.net.URI;
import java.net.http.HttpRequest;

import com.mailrelay.support.RelayTestSupport;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Without relay.routes.upload-enabled (the default) route files are neither read nor checked over HTTP. */
class RouteFileEditOffTest extends RelayTestSupport {

    @Test
    void editingIsOffUnlessUploadIsEnabled() {
        var read = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                + "/api/v1/routes/files/dispatch.camel.yaml")).header("Authorization", "Bearer admin-key").GET().build());
        assertThat(read.statusCode()).isEqualTo(403);
        assertThat(read.body()).contains("upload_disabled").contains("relay.routes.upload-enabled");
        var check = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/api/v1/routes/files/dispatch.camel.yaml/validate")).header("Authorization", "Bearer admin-key")
                .header("Content-Type", "application/yaml").POST(HttpRequest.BodyPublishers.ofString("- route: {}\n")).build());
        assertThat(check.statusCode()).isEqualTo(403);
        var overview = read(get("admin-key", "/api/v1/routes").body());
        assertThat(overview.get("upload_enabled")).isEqualTo(false);
    }
}
