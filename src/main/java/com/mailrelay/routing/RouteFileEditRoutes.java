package com.mailrelay.routing;

import com.mailrelay.api.ApiError;
import com.mailrelay.api.RestErrorConfiguration;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * Editing a route file (admin key, with relay.routes.upload-enabled):
 * {@code GET /api/v1/routes/files/{file}} reads its current text, and
 * {@code POST /api/v1/routes/files/{file}/validate} checks a version of it exactly as
 * {@code PUT /api/v1/routes/{file}} and a reload would, writing and loading nothing.
 */
@Component
public class RouteFileEditRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1/routes/files")
                .get("/{file}").id("rest-read-route-file")
                    .description("A route file's current text and its last load, for editing it "
                            + "(relay.routes.upload-enabled; admin key)")
                    .param().name("file").type(RestParamType.path).required(true).dataType("string")
                        .description("the file's name: a-z, 0-9 and -, ending in .camel.yaml").endParam()
                    .outType(RouteSchemas.FileText.class)
                    .responseMessage().code(400).message("the file name is not one of a route file")
                        .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(403).message("editing is off (relay.routes.upload-enabled), or a workspace key")
                        .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(404).message("no such route file in the routes directory")
                        .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(413).message("the file is larger than a route file may be")
                        .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:routes-read-file")
                // A dry run of the upload: the same checks, nothing written.
                .post("/{file}/validate").id("rest-validate-route-file")
                    .consumes("application/yaml,application/x-yaml,text/yaml,text/x-yaml,application/*+yaml,text/plain")
                    .clientRequestValidation(true)
                    .description("Checks a version of a route file as an upload and a reload would, and writes "
                            + "nothing: valid, or the reason with its line (relay.routes.upload-enabled; admin key)")
                    .param().name("file").type(RestParamType.path).required(true).dataType("string")
                        .description("the file's name: a-z, 0-9 and -, ending in .camel.yaml").endParam()
                    .param().name("body").type(RestParamType.body).required(true).dataType("string")
                        .description("the route file, YAML").endParam()
                    .outType(RouteSchemas.FileCheck.class)
                    .responseMessage().code(400).message("the file name is not one of a route file")
                        .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(403).message("editing is off (relay.routes.upload-enabled), or a workspace key")
                        .responseModel(ApiError.class).endResponseMessage()
                    .responseMessage().code(413).message("the content is larger than a route file may be")
                        .responseModel(ApiError.class).endResponseMessage()
                    .to("direct:routes-validate-file");

        from("direct:routes-read-file").routeId("routes-read-file").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean("routeFileEditor", "read(${header.file})")
                .bean("restResponses", "reply(*, 200)");

        from("direct:routes-validate-file").routeId("routes-validate-file").routeConfigurationId(RestErrorConfiguration.ID)
                .bean("callers", "admin")
                .bean("routeFileEditor", "check(${header.file}, ${body})")
                .bean("restResponses", "reply(*, 200)");
    }
}
