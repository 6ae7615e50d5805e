package com.mailrelay.inbound;

import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Finds the relay message a provider event is about, only ever among the workspace's own messages:
 * by the {@code relay_message_id} custom variable (Mailgun user-variables, SendGrid custom args),
 * else by the Message-ID the relay gave the message ({@code <message-uuid@sender-domain>}, as
 * REST messages have). A Message-ID chosen by an SMTP client names no relay message.
 */
@Component
public class InboundMessages {

    public static final String RELAY_MESSAGE_ID = "relay_message_id";

    private final JdbcTemplate jdbc;

    public InboundMessages(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public Optional<UUID> find(String workspace, InboundEvent event) {
        return Stream.of(uuid(event.relayMessageId()), uuid(localPart(event.messageIdHeader())))
                .flatMap(Optional::stream)
                .filter(id -> exists(workspace, id))
                .findFirst();
    }

    private boolean exists(String workspace, UUID id) {
        return !jdbc.queryForList("select 1 from messages where id = ? and workspace_id = ?", Integer.class,
                id, workspace).isEmpty();
    }

    /** "<uuid@domain>" or "uuid@domain" (Mailgun drops the brackets) → "uuid". */
    static String localPart(String messageId) {
        if (messageId == null) {
            return null;
        }
        String bare = messageId.trim();
        if (bare.startsWith("<") && bare.endsWith(">")) {
            bare = bare.substring(1, bare.length() - 1);
        }
        int at = bare.indexOf('@');
        return at < 0 ? bare : bare.substring(0, at);
    }

    private static Optional<UUID> uuid(String value) {
        if (value == null || value.length() != 36) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(value));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }
}
