package com.mailrelay.store;

import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.EventType;
import com.mailrelay.message.Json;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/** Writes events to the outbox, one per recipient, inside the caller's transaction. */
@Component
public class EventWriter {

    private final JdbcTemplate jdbc;

    public EventWriter(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void write(UUID messageId, String workspace, EventType type, List<String> recipients, String provider,
                      String reply, int attempt, Timestamp at) {
        String detail = detail(provider, reply, attempt);
        List<Object[]> rows = new ArrayList<>();
        for (String recipient : recipients) {
            rows.add(new Object[] {messageId, workspace, type.id(), recipient, detail, at});
        }
        jdbc.batchUpdate("""
                insert into events (message_id, workspace_id, type, recipient, detail, created_at)
                values (?, ?, ?, ?, ?, ?)""", rows);
    }

    /** One event with its own detail (an inbound provider event: provider, reply, ip, user_agent, url...). */
    public void write(UUID messageId, String workspace, EventType type, String recipient, Map<String, ?> detail,
                      Timestamp at) {
        jdbc.update("""
                insert into events (message_id, workspace_id, type, recipient, detail, created_at)
                values (?, ?, ?, ?, ?, ?)""", messageId, workspace, type.id(), recipient, Json.write(detail), at);
    }

    /**
     * An open, click or unsubscribe of one recipient, with what the request told of its client.
     *
     * @param url the link's target (clicks), else null
     * @param engagementKey names the link, so that repeats of it can be counted on this event (null: never)
     */
    public void writeEngagement(UUID messageId, String workspace, EventType type, String recipient, String ip,
                                String userAgent, String url, String engagementKey, Timestamp at) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("ip", ip);
        fields.put("user_agent", userAgent);
        if (url != null) {
            fields.put("url", url);
        }
        jdbc.update("""
                insert into events (message_id, workspace_id, type, recipient, detail, created_at, engagement_key)
                values (?, ?, ?, ?, ?, ?, ?)""", messageId, workspace, type.id(), recipient, Json.write(fields), at,
                engagementKey);
    }

    private String detail(String provider, String reply, int attempt) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("provider", provider);
        fields.put("reply", reply);
        fields.put("attempt", attempt);
        return Json.write(fields);
    }
}
