package com.mailrelay.ingress.rest;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;

import com.mailrelay.accept.MessageAcceptor;
import com.mailrelay.accept.Submission;
import com.mailrelay.events.EventRepository;
import com.mailrelay.queue.MessageRecord;
import com.mailrelay.queue.MessageRepository;
import com.mailrelay.queue.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestBindingMode;
import org.springframework.stereotype.Component;

/**
 * REST ingress: {@code POST /api/v1/messages} into the shared {@code direct:accept} path, and
 * {@code GET /api/v1/messages/{id}}. JSON is parsed by {@link RestSubmissionParser} (binding off)
 * so that every error can name its field; errors are mapped to statuses once, in rest-errors.
 */
@Component
public class RestApiRoutes extends RouteBuilder {

    private final RestSubmissionParser parser;
    private final MessageRepository messages;
    private final EventRepository events;
    private final RestResponses responses;

    public RestApiRoutes(RestSubmissionParser parser, MessageRepository messages,
                         EventRepository events, RestResponses responses) {
        this.parser = parser;
        this.messages = messages;
        this.events = events;
        this.responses = responses;
    }

    @Override
    public void configure() {
        restConfiguration().bindingMode(RestBindingMode.off);
        rest("/api/v1")
                .post("/messages").id("rest-post-message").to("direct:rest-submit")
                .get("/messages/{id}").id("rest-get-message").to("direct:rest-get-message");

        from("direct:rest-submit").routeId("rest-submit").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .process(this::parse)
                .to("direct:accept")
                .process(e -> responses.respond(e, 202, e.getMessage().getBody(MessageAcceptor.Accepted.class).view()));

        from("direct:accept").routeId("accept")
                .bean("messageAcceptor", "accept");

        from("direct:rest-get-message").routeId("rest-get-message-route").routeConfigurationId(RestErrorConfiguration.ID)
                .process("apiKeyAuthentication")
                .process(this::getMessage);
    }

    private void parse(Exchange exchange) {
        var message = exchange.getMessage();
        String body = message.getBody(String.class);
        Submission submission = parser.parse(message.getHeader(RelayHeaders.WORKSPACE, String.class),
                body == null ? null : body.getBytes(StandardCharsets.UTF_8),
                message.getHeader("Idempotency-Key", String.class));
        message.setBody(submission);
    }

    private void getMessage(Exchange exchange) {
        String workspace = exchange.getMessage().getHeader(RelayHeaders.WORKSPACE, String.class);
        Optional<MessageRecord> found = parseId(exchange.getMessage().getHeader("id", String.class))
                .flatMap(id -> messages.findByIdAndWorkspaceId(id, workspace));
        if (found.isEmpty()) {
            responses.respond(exchange, 404, new ApiError("not_found", "no message with this id in your workspace"));
            return;
        }
        MessageRecord m = found.get();
        var history = events.findByMessageIdOrderById(m.getId()).stream()
                .map(ev -> new MessageView.Event(ev.getType(), ev.getRecipient(), ev.getCreatedAt(), ev.getDetail()))
                .toList();
        responses.respond(exchange, 200, new MessageView(m.getId().toString(), m.getStatus().name(), m.getWorkspaceId(),
                m.getEmailType(), m.getFromAddr(), m.getRecipients(), m.getSubject(), m.getSizeBytes(),
                m.getAttempts(), m.getProviderId(), m.getProviderMessageId(), m.getLastError(), m.getQueuedAt(),
                m.getNextAttemptAt(), m.getSentAt(), m.getUpdatedAt(), history));
    }

    private static Optional<UUID> parseId(String id) {
        try {
            return Optional.of(UUID.fromString(id));
        } catch (IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }

}
