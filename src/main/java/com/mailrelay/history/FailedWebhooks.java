package com.mailrelay.history;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.mailrelay.api.Audited;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.Json;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Failed webhooks — events whose webhook delivery was given up (delivery_state FAILED, listed by
 * {@code GET /api/v1/webhooks/failed}) — sent back to the outbox or discarded. A request names its
 * events by id (one in the path, or {@code event_ids}) or by filter (workspace, a window on the
 * events' creation time), and changes exactly those of them that are FAILED and in the caller's
 * scope, at most {@code limit} (default {@value #DEFAULT_LIMIT}) a call, oldest first:
 * <ul>
 *   <li>replay: PENDING again, due now, with their attempts reset, so they are posted once more in
 *       their place in the workspace's order (a replayed event is older than the later ones);</li>
 *   <li>discard: DISCARDED with the reason, never posted, no longer listed as failed.</li>
 * </ul>
 * The answer names the events changed; the route audits it ({@code webhook.replay},
 * {@code webhook.discard}) with the ids and the filter as the change.
 */
@Component("failedWebhooks")
public class FailedWebhooks {

    static final int DEFAULT_LIMIT = 1000;
    static final int MAX_LIMIT = 10_000;
    static final int MAX_IDS = 1000;

    /** A failed webhook event, as listed. */
    public record FailedEvent(long id, String workspace, String messageId, String type, String recipient,
                              Instant createdAt, int attempts, String lastError) {
    }

    /** A page of failed webhook events, oldest first. */
    public record FailedPage(List<FailedEvent> events, String nextCursor) {
    }

    /** What a replay or discard changed: the events, and their workspaces (offered to the outbox again). */
    public record Changed(int count, List<Long> eventIds, List<String> workspaces) {
    }

    /** The events a request names. */
    private record Selection(List<Long> ids, String workspace, Instant since, Instant until, int limit) {
    }

    private final JdbcTemplate jdbc;
    private final NamedParameterJdbcTemplate named;
    private final TransactionTemplate transaction;
    private final Callers callers;

    public FailedWebhooks(JdbcTemplate jdbc, TransactionTemplate transaction, Callers callers) {
        this.jdbc = jdbc;
        this.named = new NamedParameterJdbcTemplate(jdbc);
        this.transaction = transaction;
        this.callers = callers;
    }

    /**
     * {@code GET /api/v1/webhooks/failed}: the FAILED events of the caller's scope (a workspace key:
     * its own; an admin key: every workspace's, or the one named), oldest first, by cursor.
     */
    public FailedPage list(Exchange exchange, @Header("workspace") String workspaceParam,
                           @Header("since") String sinceParam, @Header("until") String untilParam,
                           @Header("cursor") String cursorParam, @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        String workspace = q.text("workspace", workspaceParam, 64);
        Instant since = q.instant("since", sinceParam);
        Instant until = q.instant("until", untilParam);
        Long cursor = q.cursor("cursor", cursorParam);
        int limit = q.limit("limit", limitParam, 100, 1000);
        if (since != null && until != null && since.isAfter(until)) {
            q.invalid("since", "must not be after until");
        }
        q.check();
        String scope = callers.scope(exchange, workspace);
        StringBuilder sql = new StringBuilder("select id, workspace_id, message_id, type, recipient, created_at,"
                + " attempts, last_error from events where delivery_state = 'FAILED' and id > ?");
        List<Object> args = new ArrayList<>(List.of(cursor == null ? 0L : cursor));
        if (scope != null) {
            sql.append(" and workspace_id = ?");
            args.add(scope);
        }
        if (since != null) {
            sql.append(" and created_at >= ?");
            args.add(Timestamp.from(since));
        }
        if (until != null) {
            sql.append(" and created_at < ?");
            args.add(Timestamp.from(until));
        }
        sql.append(" order by id limit ?");
        args.add(limit + 1);
        List<FailedEvent> rows = jdbc.query(sql.toString(), (rs, n) -> new FailedEvent(rs.getLong("id"),
                rs.getString("workspace_id"), rs.getString("message_id"), rs.getString("type"),
                rs.getString("recipient"), rs.getTimestamp("created_at").toInstant(), rs.getInt("attempts"),
                rs.getString("last_error")), args.toArray());
        boolean more = rows.size() > limit;
        List<FailedEvent> page = more ? List.copyOf(rows.subList(0, limit)) : rows;
        return new FailedPage(page, more ? String.valueOf(page.get(limit - 1).id()) : null);
    }

    /** {@code POST /api/v1/webhooks/failed/replay} and {@code .../failed/{eventId}/replay}. */
    public Changed replay(Exchange exchange, @Header("eventId") String eventId, @Body String body) {
        Map<String, Object> request = body(body);
        Selection selection = selection(exchange, eventId, request, new QueryParameters());
        return change(exchange, selection, """
                update events set delivery_state = 'PENDING', next_attempt_at = null, attempts = 0
                 where id in (:ids) and delivery_state = 'FAILED'""", Map.of(), null);
    }

    /** {@code POST /api/v1/webhooks/failed/discard} and {@code .../failed/{eventId}/discard}: needs a reason. */
    public Changed discard(Exchange exchange, @Header("eventId") String eventId, @Body String body) {
        Map<String, Object> request = body(body);
        QueryParameters q = new QueryParameters();
        Object raw = request.get("reason");
        String reason = q.text("reason", raw instanceof String s ? s : null, 500);
        if (!(raw instanceof String text) || text.isBlank()) {
            q.invalid("reason", "is required: why the events are discarded (at most 500 characters)");
        }
        Selection selection = selection(exchange, eventId, request, q);
        return change(exchange, selection, """
                update events set delivery_state = 'DISCARDED', next_attempt_at = null, last_error = :reason
                 where id in (:ids) and delivery_state = 'FAILED'""", Map.of("reason", "discarded: " + reason), reason);
    }

    private Selection selection(Exchange exchange, String eventId, Map<String, Object> request, QueryParameters q) {
        List<Long> ids = null;
        if (eventId != null) {
            Long id = q.cursor("eventId", eventId);
            ids = id == null ? List.of() : List.of(id);
        } else if (request.containsKey("event_ids")) {
            ids = eventIds(request.get("event_ids"), q);
        }
        String workspace = q.text("workspace", string(request.get("workspace"), "workspace", q), 64);
        Instant since = q.instant("since", string(request.get("since"), "since", q));
        Instant until = q.instant("until", string(request.get("until"), "until", q));
        Object rawLimit = request.get("limit");
        int limit = q.limit("limit", rawLimit == null ? null : String.valueOf(rawLimit), DEFAULT_LIMIT, MAX_LIMIT);
        if (since != null && until != null && since.isAfter(until)) {
            q.invalid("since", "must not be after until");
        }
        if (ids != null && (since != null || until != null)) {
            q.invalid("event_ids", "name events either by id or by a time window, not both");
        }
        q.check();
        return new Selection(ids, callers.scope(exchange, workspace), since, until, limit);
    }

    /** The selected FAILED events, changed in one transaction; the audit's change and workspace set. */
    private Changed change(Exchange exchange, Selection selection, String update, Map<String, Object> values,
                           String reason) {
        Changed changed = transaction.execute(tx -> {
            List<Map<String, Object>> rows = select(selection);
            if (rows.isEmpty()) {
                return new Changed(0, List.of(), List.of());
            }
            List<Long> ids = rows.stream().map(row -> ((Number) row.get("id")).longValue()).toList();
            Map<String, Object> parameters = new LinkedHashMap<>(values);
            parameters.put("ids", ids);
            int count = named.update(update, parameters);
            List<String> workspaces = rows.stream().map(row -> (String) row.get("workspace_id")).distinct().toList();
            return new Changed(count, ids, workspaces);
        });
        Map<String, Object> audit = new LinkedHashMap<>();
        audit.put("count", changed.count());
        audit.put("event_ids", changed.eventIds().size() <= 100 ? changed.eventIds() : changed.eventIds().subList(0, 100));
        if (selection.ids() == null) {
            Map<String, Object> filter = new LinkedHashMap<>();
            filter.put("workspace", selection.workspace());
            filter.put("since", selection.since());
            filter.put("until", selection.until());
            audit.put("filter", filter);
        }
        if (reason != null) {
            audit.put("reason", reason);
        }
        exchange.setProperty(Audited.CHANGE, audit);
        if (changed.workspaces().size() == 1) {
            exchange.setProperty(Audited.WORKSPACE, changed.workspaces().get(0));
        } else if (selection.workspace() != null) {
            exchange.setProperty(Audited.WORKSPACE, selection.workspace());
        }
        exchange.setProperty(Audited.TARGET, selection.ids() != null && selection.ids().size() == 1
                ? "event " + selection.ids().get(0) : changed.count() + " event(s)");
        return changed;
    }

    /** The FAILED events the selection names, oldest first, locked for the update that follows. */
    private List<Map<String, Object>> select(Selection selection) {
        StringBuilder sql = new StringBuilder("select id, workspace_id from events where delivery_state = 'FAILED'");
        List<Object> args = new ArrayList<>();
        if (selection.ids() != null) {
            if (selection.ids().isEmpty()) {
                return List.of();
            }
            sql.append(" and id in (").append(String.join(",", selection.ids().stream().map(id -> "?").toList()))
                    .append(')');
            args.addAll(selection.ids());
        }
        if (selection.workspace() != null) {
            sql.append(" and workspace_id = ?");
            args.add(selection.workspace());
        }
        if (selection.since() != null) {
            sql.append(" and created_at >= ?");
            args.add(Timestamp.from(selection.since()));
        }
        if (selection.until() != null) {
            sql.append(" and created_at < ?");
            args.add(Timestamp.from(selection.until()));
        }
        sql.append(" order by id limit ? for update");
        args.add(selection.limit());
        return jdbc.queryForList(sql.toString(), args.toArray());
    }

    private static List<Long> eventIds(Object raw, QueryParameters q) {
        if (!(raw instanceof List<?> list) || list.isEmpty() || list.size() > MAX_IDS
                || !list.stream().allMatch(v -> v instanceof Number n && n.longValue() > 0 && n.doubleValue() == n.longValue())) {
            q.invalid("event_ids", "must be a list of 1 to " + MAX_IDS + " event ids (whole numbers)");
            return List.of();
        }
        return list.stream().map(v -> ((Number) v).longValue()).distinct().toList();
    }

    private static String string(Object value, String name, QueryParameters q) {
        if (value == null || value instanceof String) {
            return (String) value;
        }
        q.invalid(name, "must be a string");
        return null;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> body(String body) {
        if (body == null || body.isBlank()) {
            return Map.of();
        }
        Object parsed;
        try {
            parsed = Json.read(body);
        } catch (IllegalArgumentException e) {
            parsed = null;
        }
        if (!(parsed instanceof Map<?, ?> map)) {
            QueryParameters q = new QueryParameters();
            q.invalid("body", "must be a JSON object");
            q.check();
            return Map.of();
        }
        return (Map<String, Object>) map;
    }
}
