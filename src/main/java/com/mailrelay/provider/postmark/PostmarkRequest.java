package com.mailrelay.provider.postmark;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.Json;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The request of Postmark's "send a single email" ({@code POST /email},
 * postmarkapp.com/developer/api/email-api): the outgoing MIME mapped to Postmark's JSON by
 * {@link PostmarkMessage}, in the message stream of the email type — marketing mail in the
 * broadcast stream, all other types in the transactional one (Postmark keeps the two apart for
 * reputation: a Broadcast stream may not carry transactional mail, nor the other way round) — with
 * the message's first tag as Tag and its metadata as Metadata, read from its row.
 */
@Component("postmarkRequest")
public class PostmarkRequest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final JdbcTemplate jdbc;

    public PostmarkRequest(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void build(Exchange exchange, String serverToken, String transactionalStream, String broadcastStream) {
        ClaimedMessage message = exchange.getProperty(RelayHeaders.MESSAGE, ClaimedMessage.class);
        byte[] mime = exchange.getProperty(RelayHeaders.OUTGOING_MIME, byte[].class);
        String stream = EmailType.MARKETING.id().equals(message.emailType()) ? broadcastStream : transactionalStream;
        Map<String, Object> json = PostmarkMessage.map(mime, message, stream, tagsAndMetadata(message));
        Message out = exchange.getMessage();
        clearRequestHeaders(out);
        out.setHeader("Content-Type", "application/json");
        out.setHeader("Accept", "application/json");
        out.setHeader("X-Postmark-Server-Token", serverToken);
        out.setBody(Json.write(json).getBytes(StandardCharsets.UTF_8));
    }

    /** The REST submission's tags and metadata, which the MIME does not carry. */
    private PostmarkMessage.Extras tagsAndMetadata(ClaimedMessage message) {
        List<Map<String, Object>> rows = jdbc.queryForList("select tags, metadata from messages where id = ?",
                message.id());
        if (rows.isEmpty()) {
            return PostmarkMessage.Extras.NONE;
        }
        return new PostmarkMessage.Extras(read(rows.get(0).get("tags"), new TypeReference<List<String>>() { }),
                read(rows.get(0).get("metadata"), new TypeReference<Map<String, Object>>() { }));
    }

    private static <T> T read(Object column, TypeReference<T> type) {
        if (column == null || column.toString().isBlank()) {
            return null;
        }
        try {
            return JSON.readValue(column.toString(), type);
        } catch (java.io.IOException unreadable) {
            return null;
        }
    }

    /**
     * Drops the request headers an earlier provider of the chain may have left on the exchange
     * (its credentials, its X- headers): the header filter would send them to Postmark too.
     */
    static void clearRequestHeaders(Message message) {
        message.removeHeaders("Authorization");
        message.removeHeaders("Content-Type");
        message.removeHeaders("Accept");
        message.removeHeaders("User-Agent");
        message.removeHeaders("X-*");
        message.removeHeaders("x-*");
    }
}
