package com.mailrelay.ingress.rest;

import java.nio.charset.StandardCharsets;

import com.mailrelay.api.ApiRequestValidation;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.api.RestResponses;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.message.Submission;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestBindingMode;
import org.apache.camel.model.rest.RestParamType;
import org.springframework.stereotype.Component;

/**
 * REST ingress: {@code POST /api/v1/messages} into the shared {@code direct:accept} path
 * (accept.AcceptRoutes); the management reads and actions on messages are messages/MessagesApiRoutes. JSON is parsed by
 * {@link RestSubmissionParser} (binding off) so that every error can name its field; a body that
 * is not JSON is refused by the REST binding (consumes, client request validation); errors are
 * mapped to statuses once, in rest-errors.
 */
@Component
public class RestApiRoutes extends RouteBuilder {

    private final RestSubmissionParser parser;
    private final RestResponses responses;

    public RestApiRoutes(RestSubmissionParser parser, RestResponses responses) {
        this.parser = parser;
        this.responses = responses;
    }

    @Override
    public void configure() {
        restConfiguration().bindingMode(RestBindingMode.off);
        rest("/api/v1")
                .post("/messages").id("rest-post-message")
                    .consumes(ApiRequestValidation.JSON).produces("application/json").clientRequestValidation(true)
                    .description("Submits a message (a workspace key): stored and queued, then delivered by the "
                            + "workspace's dispatch route")
                    .type(MessageRequestSchema.class)
                    .param().name("body").type(RestParamType.body).required(true)
                        .description("the message, as JSON").endParam()
                    .param().name("Idempotency-Key").type(RestParamType.header).required(false).dataType("string")
                        .description("1 to 255 printable ASCII characters: the same key with the same body answers "
                                + "the first accept again instead of sending twice").endParam()
                    .responseMessage().code(202).message("accepted: stored and queued")
                        .responseModel(AcceptedSchema.class).endResponseMessage()
                    .responseMessage().code(400).message("invalid fields, each named in errors").endResponseMessage()
                    .responseMessage().code(413).message("the message is over relay.max-message-size").endResponseMessage()
                    .responseMessage().code(422).message("the Idempotency-Key was used with another body, or the "
                            + "message cannot be built").endResponseMessage()
                    .responseMessage().code(429).message("over a rate limit of the workspace or user; Retry-After "
                            + "says when to try again").endResponseMessage()
                    .to("direct:rest-submit");

        from("direct:rest-submit").routeId("rest-submit").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                // Kept past the answer, which resets the headers: a refusal is counted by workspace (metrics/).
                .setProperty(RelayHeaders.WORKSPACE, header(RelayHeaders.WORKSPACE))
                .process(this::parse)
                .to("direct:accept")
                .transform(method(AcceptedView.class, "of"))
                .bean("restResponses", "reply(*, 202)");
    }

    private void parse(Exchange exchange) {
        var message = exchange.getMessage();
        String body = message.getBody(String.class);
        Submission submission = parser.parse(message.getHeader(RelayHeaders.WORKSPACE, String.class),
                body == null ? null : body.getBytes(StandardCharsets.UTF_8),
                message.getHeader("Idempotency-Key", String.class));
        message.setBody(submission);
    }
}
