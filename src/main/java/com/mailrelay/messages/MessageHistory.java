package com.mailrelay.messages;

import java.sql.Timestamp;
import java.util.List;
import java.util.UUID;

import com.mailrelay.message.ValidationException;
import com.mailrelay.message.ValidationException.FieldError;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * One page of a message's events for {@code GET /api/v1/messages/{id}}: at most {@code limit}
 * (default {@value #DEFAULT_LIMIT}, at most {@value #MAX_LIMIT}) after the event id {@code after},
 * in id order. Tracking replays can grow a history without bound; a page keeps the answer bounded.
 */
@Component
public class MessageHistory {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final JdbcTemplate jdbc;

    public MessageHistory(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** A page, and the cursor of the next one (null on the last page). */
    public record Page(List<MessageView.Event> events, Long nextAfter) {
    }

    public Page page(UUID messageId, String after, String limit) {
        long from = cursor(after);
        int size = size(limit);
        // One row more than the page: whether there is a next page without counting the rest.
        List<MessageView.Event> rows = jdbc.query("select id, type, recipient, created_at, detail from events "
                        + "where message_id = ? and id > ? order by id limit ?",
                (rs, n) -> new MessageView.Event(rs.getLong("id"), rs.getString("type"), rs.getString("recipient"),
                        rs.getObject("created_at", Timestamp.class).toInstant(), rs.getString("detail")),
                messageId, from, size + 1);
        if (rows.size() <= size) {
            return new Page(rows, null);
        }
        List<MessageView.Event> page = rows.subList(0, size);
        return new Page(List.copyOf(page), page.get(size - 1).id());
    }

    private static long cursor(String after) {
        if (after == null || after.isBlank()) {
            return 0;
        }
        try {
            long value = Long.parseLong(after.trim());
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new ValidationException(List.of(new FieldError("after",
                "must be the id of an event (a whole number >= 0), as in the previous page's next link")));
    }

    private static int size(String limit) {
        if (limit == null || limit.isBlank()) {
            return DEFAULT_LIMIT;
        }
        try {
            int value = Integer.parseInt(limit.trim());
            if (value >= 1 && value <= MAX_LIMIT) {
                return value;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw new ValidationException(List.of(new FieldError("limit",
                "must be a whole number from 1 to " + MAX_LIMIT + " (default " + DEFAULT_LIMIT + ")")));
    }
}
