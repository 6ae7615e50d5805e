package com.mailrelay.api;

import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/openapi.json} and {@code /api/v1/openapi.yaml}: the API's OpenAPI 3 document
 * ({@link OpenApiDocument}), public, GET only, built once and then answered from memory with a
 * validator (ETag) and a cache lifetime, so that calling it costs the relay nothing but the bytes.
 */
@Component
public class OpenApiRoutes extends RouteBuilder {

    @Override
    public void configure() {
        rest("/api/v1")
                .get("/openapi.json").id("rest-openapi-json").produces("application/json")
                    .description("This document: every route of the API, its parameters, bodies and answers (OpenAPI 3, JSON). No key needed")
                    .responseMessage().code(200).message("the OpenAPI document").endResponseMessage()
                    .responseMessage().code(304).message("unchanged since the ETag given in If-None-Match").endResponseMessage()
                    .responseMessage().code(406).message("the client does not accept JSON").endResponseMessage()
                    .to("direct:openapi-json")
                .get("/openapi.yaml").id("rest-openapi-yaml").produces("application/yaml")
                    .description("This document as YAML. No key needed")
                    .responseMessage().code(200).message("the OpenAPI document").endResponseMessage()
                    .responseMessage().code(304).message("unchanged since the ETag given in If-None-Match").endResponseMessage()
                    .responseMessage().code(406).message("the client does not accept YAML").endResponseMessage()
                    .to("direct:openapi-yaml");

        from("direct:openapi-json").routeId("openapi-json").routeConfigurationId(RestErrorConfiguration.ID)
                .setProperty("relayOpenApiType", constant("application/json"))
                .to("direct:openapi-answer");
        from("direct:openapi-yaml").routeId("openapi-yaml").routeConfigurationId(RestErrorConfiguration.ID)
                .setProperty("relayOpenApiType", constant("application/yaml"))
                .to("direct:openapi-answer");

        from("direct:openapi-answer").routeId("openapi-answer").routeConfigurationId(RestErrorConfiguration.ID)
                .setProperty("relayOpenApiEtag", method("openApiDocument", "etag"))
                .setProperty("relayOpenApiUnchanged", simple("${header.If-None-Match} == ${exchangeProperty.relayOpenApiEtag}", Boolean.class))
                .removeHeaders("*")
                .setHeader("ETag", exchangeProperty("relayOpenApiEtag"))
                // Browser tools (Swagger UI, editors) on another origin may load it: it holds no secret.
                .setHeader("Access-Control-Allow-Origin", constant("*"))
                .bean("openApiDocument", "cacheable")
                .choice()
                    .when(exchangeProperty("relayOpenApiUnchanged"))
                        .setHeader("CamelHttpResponseCode", constant(304))
                        .setBody(constant(""))
                    .when(exchangeProperty("relayOpenApiType").isEqualTo("application/yaml"))
                        .setHeader("Content-Type", constant("application/yaml"))
                        .setBody(method("openApiDocument", "yaml"))
                    .otherwise()
                        .setHeader("Content-Type", constant("application/json"))
                        .setBody(method("openApiDocument", "json"))
                .end();
    }
}
