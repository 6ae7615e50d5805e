package com.mailrelay.messages;

import java.util.Optional;
import java.util.UUID;

import com.mailrelay.api.Callers;
import com.mailrelay.message.Priority;
import com.mailrelay.store.MessageQueries;
import com.mailrelay.store.MessageRepository;
import com.mailrelay.store.MessageSummary;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/messages/{id}}'s computation: the message's row without its MIME
 * ({@link MessageSummary}) and one page of its events. A workspace key reads its own workspace's
 * messages, an admin key any. What is answered, and with which status, is the
 * {@code messages-get} route's choice.
 */
@Component("messageLookup")
public class MessageLookup {

    private final MessageRepository messages;
    private final MessageHistory history;
    private final MessageQueries queries;
    private final Callers callers;

    public MessageLookup(MessageRepository messages, MessageHistory history, MessageQueries queries, Callers callers) {
        this.messages = messages;
        this.history = history;
        this.queries = queries;
        this.callers = callers;
    }

    /** The message's view, or null when the caller may see no message with this id (or it is no id). */
    public MessageView find(Exchange exchange, @Header("id") String id, @Header("after") String after,
                            @Header("limit") String limit) {
        String scope = callers.scope(exchange, null);
        Optional<MessageSummary> found = parseId(id).flatMap(uuid -> scope == null
                ? messages.findSummaryById(uuid) : messages.findSummary(uuid, scope));
        if (found.isEmpty()) {
            return null;
        }
        MessageSummary m = found.get();
        MessageHistory.Page page = history.page(m.id(), after, limit);
        String self = "/api/v1/messages/" + m.id();
        String next = page.nextAfter() == null ? null : self + "?after=" + page.nextAfter()
                + "&limit=" + page.events().size();
        return new MessageView(m.id().toString(), m.status().name(), m.workspaceId(),
                m.emailType(), m.fromAddr(), m.recipients(), m.subject(), m.sizeBytes(), m.attempts(), m.providerId(),
                m.providerMessageId(), m.lastError(), m.queuedAt(), m.nextAttemptAt(), m.sentAt(), m.updatedAt(),
                new MessageView.Links(self, self + "/raw", self + "/attempts"), page.events(), next, m.sendAt(),
                Priority.ofLevel(m.priority()).id());
    }

    /** The stored bytes of a message the caller may see ({@code bytes} null: dropped), or null when there is none. */
    public MessageQueries.Raw raw(Exchange exchange, @Header("id") String id) {
        String scope = callers.scope(exchange, null);
        return parseId(id).map(uuid -> queries.raw(uuid, scope)).orElse(null);
    }

    /**
     * Answers the bytes exactly as stored, as {@code message/rfc822}: the body is the byte array
     * itself, never JSON, and no request header goes back.
     */
    public void rawAnswer(Exchange exchange) {
        MessageQueries.Raw raw = exchange.getMessage().getBody(MessageQueries.Raw.class);
        var message = exchange.getMessage();
        message.removeHeaders("*");
        message.setHeader(Exchange.HTTP_RESPONSE_CODE, 200);
        message.setHeader(Exchange.CONTENT_TYPE, "message/rfc822");
        message.setHeader("Content-Disposition", "attachment; filename=\"" + raw.id() + ".eml\"");
        message.setBody(raw.bytes());
    }

    static Optional<UUID> parseId(String id) {
        try {
            return Optional.of(UUID.fromString(id));
        } catch (IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }
}
