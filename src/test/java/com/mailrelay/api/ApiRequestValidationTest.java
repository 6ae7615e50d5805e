package com.mailrelay.api;

import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.camel.Exchange;
import org.apache.camel.impl.DefaultCamelContext;
import org.apache.camel.spi.RestClientRequestValidator.ValidationContext;
import org.apache.camel.spi.RestClientRequestValidator.ValidationError;
import org.apache.camel.support.DefaultExchange;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Camel's client request validation, as the REST binding calls it for a verb that declares
 * {@code consumes}: the media type alone is judged, and a refusal is the API's 415 error body
 * with the response's own headers (none of the request's echoed back).
 */
class ApiRequestValidationTest {

    private final ApiRequestValidation validation = new ApiRequestValidation(new RestResponses());
    private final DefaultCamelContext camel = new DefaultCamelContext();

    @Test
    void aBodyOfAnotherTypeIsAn415InTheApiShape() throws Exception {
        Exchange exchange = request("text/plain; charset=UTF-8", "{\"from\":\"a@b.test\"}");
        exchange.getMessage().setHeader("Authorization", "Bearer secret");

        ValidationError error = validation.validate(exchange, consumes(ApiRequestValidation.JSON));

        assertThat(error.statusCode()).isEqualTo(415);
        Map<String, Object> body = new ObjectMapper().readValue(error.body(), new TypeReference<>() { });
        assertThat(body).containsEntry("error", "unsupported_media_type").containsOnlyKeys("error", "message");
        assertThat(exchange.getMessage().getHeader(Exchange.CONTENT_TYPE)).isEqualTo("application/json");
        assertThat(exchange.getMessage().getHeader("Authorization")).isNull();
    }

    @Test
    void aBodyWithoutAContentTypeIsRefused() {
        assertThat(validation.validate(request(null, "{}"), consumes(ApiRequestValidation.JSON)).statusCode())
                .isEqualTo(415);
    }

    @Test
    void jsonAndJsonBasedTypesPassAndTheRouteParsesTheBody() {
        // Malformed JSON is the route parser's to name (a field error), not the validator's.
        assertThat(validation.validate(request("application/json", "{\"from\":"), consumes(ApiRequestValidation.JSON)))
                .isNull();
        assertThat(validation.validate(request("Application/JSON; charset=utf-8", "{}"),
                consumes(ApiRequestValidation.JSON))).isNull();
        assertThat(validation.validate(request("application/merge-patch+json", "{}"),
                consumes(ApiRequestValidation.JSON))).isNull();
        assertThat(validation.validate(request("application/x-www-form-urlencoded", "a=b"),
                consumes("application/x-www-form-urlencoded,multipart/form-data"))).isNull();
    }

    @Test
    void noBodyOrNoDeclaredTypeIsNotJudged() {
        assertThat(validation.validate(request("text/plain", null), consumes(ApiRequestValidation.JSON))).isNull();
        assertThat(validation.validate(request("text/plain", "x"), consumes(null))).isNull();
    }

    private Exchange request(String contentType, String body) {
        Exchange exchange = new DefaultExchange(camel);
        exchange.getMessage().setHeader(Exchange.HTTP_METHOD, "POST");
        exchange.getMessage().setHeader(Exchange.HTTP_URI, "/api/v1/messages");
        if (contentType != null) {
            exchange.getMessage().setHeader(Exchange.CONTENT_TYPE, contentType);
        }
        exchange.getMessage().setBody(body);
        return exchange;
    }

    private static ValidationContext consumes(String consumes) {
        return new ValidationContext(consumes, "application/json", false, null, null, null, null);
    }
}
