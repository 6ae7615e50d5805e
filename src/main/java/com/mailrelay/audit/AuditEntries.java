package com.mailrelay.audit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.Json;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/audit}: the audit log, newest first, by cursor ({@code ?cursor=} the previous
 * page's {@code next_cursor}), filtered by actor, action, workspace and time. An admin key reads
 * every entry; a workspace key those of its own workspace.
 */
@Component("auditEntries")
public class AuditEntries {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final JdbcTemplate jdbc;
    private final Callers callers;

    public AuditEntries(JdbcTemplate jdbc, Callers callers) {
        this.jdbc = jdbc;
        this.callers = callers;
    }

    public record Entry(long id, Instant at, String actor, String remoteAddress, String action, String workspace,
                        String target, Object change) {
    }

    public record Page(List<Entry> entries, String nextCursor) {
    }

    public Page list(Exchange exchange, @Header("workspace") String workspaceParam, @Header("actor") String actorParam,
                     @Header("action") String actionParam, @Header("since") String sinceParam,
                     @Header("until") String untilParam, @Header("cursor") String cursorParam,
                     @Header("limit") String limitParam) {
        QueryParameters q = new QueryParameters();
        String workspace = q.text("workspace", workspaceParam, 128);
        String actor = q.text("actor", actorParam, 200);
        String action = q.text("action", actionParam, 64);
        Instant since = q.instant("since", sinceParam);
        Instant until = q.instant("until", untilParam);
        Long cursor = q.cursor("cursor", cursorParam);
        int limit = q.limit("limit", limitParam, DEFAULT_LIMIT, MAX_LIMIT);
        if (since != null && until != null && since.isAfter(until)) {
            q.invalid("since", "must not be after until");
        }
        q.check();
        String scope = callers.scope(exchange, workspace);

        StringBuilder sql = new StringBuilder("select id, at, actor, remote_address, action, workspace_id, target,"
                + " change_json from audit_log where 1 = 1");
        List<Object> args = new ArrayList<>();
        condition(sql, args, " and workspace_id = ?", scope);
        condition(sql, args, " and actor = ?", actor);
        condition(sql, args, " and action = ?", action);
        condition(sql, args, " and at >= ?", since == null ? null : Timestamp.from(since));
        condition(sql, args, " and at < ?", until == null ? null : Timestamp.from(until));
        condition(sql, args, " and id < ?", cursor);
        sql.append(" order by id desc limit ?");
        args.add(limit + 1);
        List<Entry> rows = jdbc.query(sql.toString(), (rs, n) -> new Entry(rs.getLong(1),
                rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                rs.getString(7), Json.read(rs.getString(8))), args.toArray());
        if (rows.size() <= limit) {
            return new Page(rows, null);
        }
        List<Entry> page = List.copyOf(rows.subList(0, limit));
        return new Page(page, String.valueOf(page.get(limit - 1).id()));
    }

    private static void condition(StringBuilder sql, List<Object> args, String clause, Object value) {
        if (value != null) {
            sql.append(clause);
            args.add(value);
        }
    }
}
