package com.mailrelay.ingress.rest;

import com.mailrelay.message.Accepted;
import com.mailrelay.api.ApiError;
import com.mailrelay.api.RestErrorConfiguration;
import com.mailrelay.api.RestResponses;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Submission;
import com.mailrelay.store.MessageRepository;
import com.mailrelay.store.MessageSummary;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.rest.RestBindingMode;
import org.springframework.stereotype.Component;

/**
 * REST ingress: {@code POST /api/v1/messages} into the shared {@code direct:accept} path (accept.AcceptRoutes), and
 * {@code GET /api/v1/messages/{id}} (status without the MIME, events paginated by {@code ?limit=&after=}). JSON is parsed by {@link RestSubmissionParser} (binding off)
 * so that every error can name its field; errors are mapped to statuses once, in rest-errors.
 */
@Component
public class RestApiRoutes extends RouteBuilder {

    private final RestSubmissionParser parser;
    private final MessageRepository messages;
    private final MessageHistory history;
    private final RestResponses responses;

    public RestApiRoutes(RestSubmissionParser parser, MessageRepository messages,
                         MessageHistory history, RestResponses responses) {
        this.parser = parser;
        this.messages = messages;
        this.history = history;
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
                .process(e -> responses.respond(e, 202, view(e.getMessage().getBody(Accepted.class))));

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

    /** The message's row without its MIME (MessageSummary) and one page of its events. */
    private void getMessage(Exchange exchange) {
        var request = exchange.getMessage();
        String workspace = request.getHeader(RelayHeaders.WORKSPACE, String.class);
        Optional<MessageSummary> found = parseId(request.getHeader("id", String.class))
                .flatMap(id -> messages.findSummary(id, workspace));
        if (found.isEmpty()) {
            responses.respond(exchange, 404, new ApiError("not_found", "no message with this id in your workspace"));
            return;
        }
        MessageSummary m = found.get();
        MessageHistory.Page page = history.page(m.id(), request.getHeader("after", String.class),
                request.getHeader("limit", String.class));
        String next = page.nextAfter() == null ? null : "/api/v1/messages/" + m.id() + "?after=" + page.nextAfter()
                + "&limit=" + page.events().size();
        responses.respond(exchange, 200, new MessageView(m.id().toString(), m.status().name(), m.workspaceId(),
                m.emailType(), m.fromAddr(), m.recipients(), m.subject(), m.sizeBytes(), m.attempts(), m.providerId(),
                m.providerMessageId(), m.lastError(), m.queuedAt(), m.nextAttemptAt(), m.sentAt(), m.updatedAt(),
                page.events(), next));
    }

    /**
     * What the client is told of an accept: {@code {"id": ..., "status": "queued"}}, and with
     * per-recipient rows {@code "messages": [{"id", "email", "status"}]}.
     */
    static Map<String, Object> view(Accepted accepted) {
        Map<String, Object> view = new LinkedHashMap<>();
        view.put("id", accepted.id());
        view.put("status", name(accepted.status()));
        if (!accepted.messages().isEmpty()) {
            view.put("messages", accepted.messages().stream().map(part -> Map.of("id", part.id(),
                    "email", part.email(), "status", name(part.status()))).toList());
        }
        return view;
    }

    private static String name(MessageStatus status) {
        return status.name().toLowerCase(Locale.ROOT);
    }

    private static Optional<UUID> parseId(String id) {
        try {
            return Optional.of(UUID.fromString(id));
        } catch (IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }

}
