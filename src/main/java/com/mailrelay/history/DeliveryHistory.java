package com.mailrelay.history;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import com.mailrelay.api.Caller;
import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * "Why did it fail?": a message's delivery attempts (every provider tried, what it answered, how
 * long it took) and the webhook delivery log, read from {@code delivery_attempts} and
 * {@code webhook_attempts}, oldest first, one page at a time by cursor ({@code next_cursor} is the
 * last row's id; a page is one query of {@code limit + 1} rows). An admin key reads every
 * workspace's; a workspace key its own, and another workspace's message is not found.
 */
@Component("deliveryHistory")
public class DeliveryHistory {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    static final Set<String> WEBHOOK_OUTCOMES = Set.of("DELIVERED", "RETRY", "FAILED");

    /** One provider tried in one delivery attempt. */
    public record AttemptView(long id, int attempt, String provider, String outcome, String code, String reply,
                              Integer durationMs, Instant startedAt) {
    }

    /** A page of a message's attempts, oldest first. */
    public record AttemptPage(String messageId, List<AttemptView> attempts, String nextCursor) {
    }

    /** One webhook POST of a batch of events. */
    public record WebhookAttemptView(long id, String workspace, String url, int events, Long firstEventId,
                                     Long lastEventId, Integer statusCode, int latencyMs, String response,
                                     String outcome, Instant attemptedAt) {
    }

    /** A page of the webhook delivery log, oldest first. */
    public record WebhookAttemptPage(List<WebhookAttemptView> attempts, String nextCursor) {
    }

    private final JdbcTemplate jdbc;
    private final Callers callers;

    public DeliveryHistory(JdbcTemplate jdbc, Callers callers) {
        this.jdbc = jdbc;
        this.callers = callers;
    }

    /** {@code GET /api/v1/messages/{id}/attempts}. */
    public AttemptPage messageAttempts(Exchange exchange, @Header("id") String idParam,
                                       @Header("cursor") String cursorParam, @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        Long cursor = q.cursor("cursor", cursorParam);
        int limit = q.limit("limit", limitParam, DEFAULT_LIMIT, MAX_LIMIT);
        q.check();
        UUID id = parse(idParam);
        Caller caller = Callers.caller(exchange);
        List<String> owner = id == null ? List.of()
                : jdbc.queryForList("select workspace_id from messages where id = ?", String.class, id);
        if (owner.isEmpty() || !caller.admin() && !owner.get(0).equals(caller.workspace())) {
            throw new HistoryNotFoundException("no message " + idParam + " in "
                    + (caller.admin() ? "any workspace" : "workspace " + caller.workspace()));
        }
        List<AttemptView> rows = jdbc.query("""
                select id, attempt, provider_id, outcome, code, reply, duration_ms, started_at from delivery_attempts
                 where message_id = ? and id > ? order by id limit ?""", DeliveryHistory::attempt,
                id, cursor == null ? 0 : cursor, limit + 1);
        boolean more = rows.size() > limit;
        List<AttemptView> page = more ? List.copyOf(rows.subList(0, limit)) : rows;
        return new AttemptPage(id.toString(), page, more ? String.valueOf(page.get(limit - 1).id()) : null);
    }

    /** {@code GET /api/v1/webhooks/attempts}: filtered by workspace, outcome and time. */
    public WebhookAttemptPage webhookAttempts(Exchange exchange, @Header("workspace") String workspaceParam,
                                              @Header("outcome") String outcomeParam,
                                              @Header("since") String sinceParam, @Header("until") String untilParam,
                                              @Header("cursor") String cursorParam,
                                              @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        String workspace = q.text("workspace", workspaceParam, 64);
        String outcome = q.oneOf("outcome", outcomeParam, WEBHOOK_OUTCOMES);
        Instant since = q.instant("since", sinceParam);
        Instant until = q.instant("until", untilParam);
        Long cursor = q.cursor("cursor", cursorParam);
        int limit = q.limit("limit", limitParam, DEFAULT_LIMIT, MAX_LIMIT);
        if (since != null && until != null && since.isAfter(until)) {
            q.invalid("since", "must not be after until");
        }
        q.check();
        String scope = callers.scope(exchange, workspace);
        StringBuilder sql = new StringBuilder("""
                select id, workspace_id, url, events, first_event_id, last_event_id, status_code, latency_ms,
                       response, outcome, attempted_at
                  from webhook_attempts where id > ?""");
        List<Object> args = new ArrayList<>(List.of(cursor == null ? 0L : cursor));
        condition(sql, args, " and workspace_id = ?", scope);
        condition(sql, args, " and outcome = ?", outcome);
        condition(sql, args, " and attempted_at >= ?", since == null ? null : Timestamp.from(since));
        condition(sql, args, " and attempted_at < ?", until == null ? null : Timestamp.from(until));
        sql.append(" order by id limit ?");
        args.add(limit + 1);
        List<WebhookAttemptView> rows = jdbc.query(sql.toString(), DeliveryHistory::webhookAttempt, args.toArray());
        boolean more = rows.size() > limit;
        List<WebhookAttemptView> page = more ? List.copyOf(rows.subList(0, limit)) : rows;
        return new WebhookAttemptPage(page, more ? String.valueOf(page.get(limit - 1).id()) : null);
    }

    private static AttemptView attempt(ResultSet rs, int row) throws SQLException {
        return new AttemptView(rs.getLong("id"), rs.getInt("attempt"), rs.getString("provider_id"),
                rs.getString("outcome"), rs.getString("code"), rs.getString("reply"),
                (Integer) rs.getObject("duration_ms", Integer.class), rs.getTimestamp("started_at").toInstant());
    }

    private static WebhookAttemptView webhookAttempt(ResultSet rs, int row) throws SQLException {
        return new WebhookAttemptView(rs.getLong("id"), rs.getString("workspace_id"), rs.getString("url"),
                rs.getInt("events"), rs.getObject("first_event_id", Long.class),
                rs.getObject("last_event_id", Long.class), rs.getObject("status_code", Integer.class),
                rs.getInt("latency_ms"), rs.getString("response"), rs.getString("outcome"),
                rs.getTimestamp("attempted_at").toInstant());
    }

    private static void condition(StringBuilder sql, List<Object> args, String clause, Object value) {
        if (value != null) {
            sql.append(clause);
            args.add(value);
        }
    }

    private static UUID parse(String id) {
        try {
            return id == null ? null : UUID.fromString(id.trim());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
