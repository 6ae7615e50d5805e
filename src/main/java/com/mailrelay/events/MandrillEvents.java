package com.mailrelay.events;

import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Json;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;

/** Event rows as Mandrill's webhooks describe events — the one format of webhooks and the Kafka stream. */
@Component
public class MandrillEvents {

    private static final TypeReference<List<String>> STRINGS = new TypeReference<>() { };
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() { };
    private static final Map<String, String> STATES = Map.of("send", "sent", "deferral", "deferred",
            "hard_bounce", "bounced", "soft_bounce", "soft-bounced", "reject", "rejected");
    /**
     * Events of what a recipient did with a delivered message: their msg.state is that of the
     * message (usually "sent"), and they carry no bounce diagnostics.
     */
    private static final Set<String> ENGAGEMENT = Set.of("open", "click", "unsub", "spam");
    private static final Map<String, String> MESSAGE_STATES = Map.of("QUEUED", "queued", "SENDING", "queued",
            "DEFERRED", "deferred", "SENT", "sent", "FAILED", "bounced", "REJECTED", "rejected");

    /** The field of each event that names it uniquely and stably (events.id, as a string). */
    public static final String EVENT_ID = "_relay_event_id";

    private final NamedParameterJdbcTemplate named;
    private final ObjectMapper json;

    public MandrillEvents(JdbcTemplate jdbc, ObjectMapper json) {
        this.named = new NamedParameterJdbcTemplate(jdbc);
        this.json = json;
    }

    /** The events with these ids and what Mandrill tells of their message, in id order. */
    public List<Map<String, Object>> rows(List<Long> ids) {
        if (ids.isEmpty()) {
            return List.of();
        }
        return named.queryForList("""
                select e.id, e.type, e.recipient, e.detail, e.created_at, e.attempts, m.id as message_id,
                       m.subject, m.from_addr, m.tags, m.metadata,
                       m.status as message_status
                  from events e join messages m on m.id = e.message_id
                 where e.id in (:ids)
                 order by e.id""", Map.of("ids", ids));
    }

    /**
     * The size in bytes of what each of a workspace's oldest pending events (at most {@code limit})
     * will take in a payload, roughly: its stored texts, read without reading them. Lets a batch be
     * bounded by bytes before any event is loaded.
     */
    public List<Map<String, Object>> pendingSizes(String workspace, int limit) {
        return named.queryForList("""
                select e.id, coalesce(octet_length(e.detail), 0) + coalesce(octet_length(e.recipient), 0)
                       + coalesce(octet_length(m.subject), 0) + coalesce(octet_length(m.tags), 0)
                       + coalesce(octet_length(m.metadata), 0) + octet_length(m.from_addr) as size
                  from events e join messages m on m.id = e.message_id
                 where e.workspace_id = :workspace and e.delivery_state = 'PENDING'
                 order by e.id
                 limit :limit""", Map.of("workspace", workspace, "limit", limit));
    }

    /** A JSON array of the rows as Mandrill events. */
    public String json(List<Map<String, Object>> rows) {
        return write(rows.stream().map(this::event).toList());
    }

    /**
     * One event: {event, _id, ts, msg: {_id, ts, state, email, subject, sender, tags, metadata, ...}}, and
     * for open, click and unsub also ip, user_agent, location and (click) url.
     */
    public Map<String, Object> event(Map<String, Object> row) {
        String type = (String) row.get("type");
        long ts = instant(row.get("created_at")).getEpochSecond();
        Map<String, Object> detail = read((String) row.get("detail"), OBJECT, Map.of());
        Map<String, Object> msg = new LinkedHashMap<>();
        msg.put("_id", row.get("message_id").toString());
        msg.put("ts", ts);
        boolean engagement = ENGAGEMENT.contains(type);
        msg.put("state", engagement ? MESSAGE_STATES.getOrDefault((String) row.get("message_status"), "sent")
                : STATES.getOrDefault(type, type));
        msg.put("email", row.get("recipient"));
        msg.put("subject", row.get("subject"));
        msg.put("sender", row.get("from_addr"));
        msg.put("tags", read((String) row.get("tags"), STRINGS, List.of()));
        msg.put("metadata", read((String) row.get("metadata"), OBJECT, Map.of()));
        if (!type.equals("send") && !engagement) {
            msg.put("diag", detail.get("reply"));
            msg.put("bounce_description", detail.get("reply"));
        }
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("event", type);
        // The event's own id (Mandrill's _id is the message's): the same in every redelivery of the
        // event, to webhooks and on the Kafka stream, so that receivers can drop duplicates.
        event.put(EVENT_ID, row.get("id").toString());
        event.put("_id", row.get("message_id").toString());
        event.put("ts", ts);
        if (engagement) {
            // Mandrill's open, click and unsub events tell the client's address and user agent, a click its URL.
            event.put("ip", detail.get("ip"));
            event.put("user_agent", detail.get("user_agent"));
            event.put("location", null);
            if (type.equals("click")) {
                event.put("url", detail.get("url"));
            }
        }
        event.put("msg", msg);
        return event;
    }

    public String write(Object value) {
        return Json.write(value);
    }

    /** Timestamps come back as Timestamp from PostgreSQL and as OffsetDateTime from H2. */
    static Instant instant(Object value) {
        if (value instanceof Timestamp timestamp) {
            return timestamp.toInstant();
        }
        if (value instanceof OffsetDateTime dateTime) {
            return dateTime.toInstant();
        }
        return (Instant) value;
    }

    private <T> T read(String text, TypeReference<T> type, T empty) {
        if (text == null) {
            return empty;
        }
        try {
            return json.readValue(text, type);
        } catch (JsonProcessingException e) {
            return empty;
        }
    }
}
