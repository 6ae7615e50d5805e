package com.mailrelay.ingress.rest;

import java.util.Optional;
import java.util.UUID;

import com.mailrelay.message.RelayHeaders;
import com.mailrelay.store.MessageRepository;
import com.mailrelay.store.MessageSummary;
import org.apache.camel.Header;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/messages/{id}}'s computation: the message's row without its MIME
 * ({@link MessageSummary}) and one page of its events. What is answered, and with which status,
 * is the {@code messages-get} route's choice.
 */
@Component("messageLookup")
public class MessageLookup {

    private final MessageRepository messages;
    private final MessageHistory history;

    public MessageLookup(MessageRepository messages, MessageHistory history) {
        this.messages = messages;
        this.history = history;
    }

    /** The message's view, or null when the workspace has no message with this id (or it is no id). */
    public MessageView find(@Header(RelayHeaders.WORKSPACE) String workspace, @Header("id") String id,
                            @Header("after") String after, @Header("limit") String limit) {
        Optional<MessageSummary> found = parseId(id).flatMap(uuid -> messages.findSummary(uuid, workspace));
        if (found.isEmpty()) {
            return null;
        }
        MessageSummary m = found.get();
        MessageHistory.Page page = history.page(m.id(), after, limit);
        String next = page.nextAfter() == null ? null : "/api/v1/messages/" + m.id() + "?after=" + page.nextAfter()
                + "&limit=" + page.events().size();
        return new MessageView(m.id().toString(), m.status().name(), m.workspaceId(),
                m.emailType(), m.fromAddr(), m.recipients(), m.subject(), m.sizeBytes(), m.attempts(), m.providerId(),
                m.providerMessageId(), m.lastError(), m.queuedAt(), m.nextAttemptAt(), m.sentAt(), m.updatedAt(),
                page.events(), next);
    }

    private static Optional<UUID> parseId(String id) {
        try {
            return Optional.of(UUID.fromString(id));
        } catch (IllegalArgumentException | NullPointerException e) {
            return Optional.empty();
        }
    }
}
