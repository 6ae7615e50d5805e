package com.mailrelay.queuectl;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.ratelimit.RateLimitUsage;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Rate-limit usage against the limits, per workspace and per user ({@code GET /api/v1/usage}), and
 * the same in the shape the relay we replace answered at {@code GET /api/rate-limit} (kept there
 * and at {@code /api/v1/rate-limit}, so that its runbook's "check current usage" still works).
 * "Today" is the UTC day; its sends are counted from the send events (one per recipient) over the
 * events_created indexes of V20. A workspace key sees its own workspace, the admin key every one.
 */
@Component("usage")
public class Usage {

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final Callers callers;
    private final RateLimitUsage rateLimits;

    public Usage(JdbcTemplate jdbc, Clock clock, Callers callers, RateLimitUsage rateLimits) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.rateLimits = rateLimits;
        this.callers = callers;
    }

    /** A count against its limit; limit and remaining are null when there is no limit. */
    public record Count(long used, Integer limit, Long remaining) {
        static Count of(long used, Integer limit) {
            return new Count(used, limit, limit == null ? null : Math.max(0, limit - used));
        }
    }

    public record UserView(String userId, Count messages) {
    }

    /**
     * One workspace's current rate-limit window (messages accepted, as counted by ratelimit/RateLimits);
     * {@code limits} has every limit it is counted against, each in its own current window.
     */
    public record WorkspaceUsage(String workspace, long sentToday, long windowSeconds, Instant windowStart,
                                 Instant resetsAt, Count messages, Integer limitPerUser, List<UserView> users,
                                 List<LimitView> limits) {
    }

    /**
     * One limit in its current window: its messages (null for a per-user default, whose users are
     * listed instead), and those a soft limit holds for its later windows.
     */
    public record LimitView(String limit, String per, String userId, String mode, long windowSeconds,
                            Instant windowStart, Instant resetsAt, Count messages, long held, List<UserView> users) {
        static LimitView of(RateLimitUsage.LimitUsage usage) {
            return new LimitView(usage.limit(), usage.per(), usage.userId(), usage.mode(), usage.windowSeconds(),
                    usage.windowStart(), usage.resetsAt(),
                    usage.used() == null ? null : Count.of(usage.used(), usage.messages()), usage.held(),
                    usage.users().stream().map(u -> new UserView(u.userId(), Count.of(u.used(), usage.messages())))
                            .toList());
        }
    }

    public record UsageView(Instant asOf, List<WorkspaceUsage> workspaces) {
    }

    public UsageView usage(Exchange exchange, @Header("workspace") String workspaceParam) {
        Instant now = clock.instant();
        List<String> names = scope(exchange, workspaceParam);
        Map<String, Long> sent = sentToday(names.size() == 1 ? names.get(0) : null, now);
        List<WorkspaceUsage> rows = names.stream().map(name -> {
            RateLimitUsage.Usage usage = rateLimits.usage(name, now);
            List<UserView> users = usage.users().stream()
                    .map(u -> new UserView(u.userId(), Count.of(u.used(), usage.limitPerUser()))).toList();
            return new WorkspaceUsage(name, sent.getOrDefault(name, 0L), usage.windowSeconds(), usage.windowStart(),
                    usage.resetsAt(), Count.of(usage.used(), usage.limit()), usage.limitPerUser(), users,
                    usage.limits().stream().map(LimitView::of).toList());
        }).toList();
        return new UsageView(now, rows);
    }

    /**
     * The seed's answer: {@code {"total_sent_today", "workspace_count", "workspaces": {"<id>":
     * {"sent", "limit", "users": {...}}}}} — sent is today's sends, limit the messages of the
     * current window (with its size, used and resets_at beside them), users each user's count
     * against the per-user limit.
     */
    public Map<String, Object> rateLimit(Exchange exchange, @Header("workspace") String workspaceParam) {
        UsageView usage = usage(exchange, workspaceParam);
        Map<String, Object> workspaces = new LinkedHashMap<>();
        long total = 0;
        for (WorkspaceUsage workspace : usage.workspaces()) {
            total += workspace.sentToday();
            Map<String, Object> users = new LinkedHashMap<>();
            workspace.users().forEach(user -> {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("used", user.messages().used());
                entry.put("limit", user.messages().limit());
                users.put(user.userId(), entry);
            });
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("sent", workspace.sentToday());
            entry.put("limit", workspace.messages().limit());
            entry.put("used", workspace.messages().used());
            entry.put("window_seconds", workspace.windowSeconds());
            entry.put("resets_at", workspace.resetsAt());
            entry.put("users", users);
            entry.put("limits", workspace.limits().stream().map(Usage::seedLimit).toList());
            workspaces.put(workspace.workspace(), entry);
        }
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("total_sent_today", total);
        answer.put("workspace_count", workspaces.size());
        answer.put("workspaces", workspaces);
        return answer;
    }

    /** A limit in the seed answer's words: limit, used (or users), window_seconds, resets_at, mode, per. */
    private static Map<String, Object> seedLimit(LimitView limit) {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("description", limit.limit());
        entry.put("per", limit.per());
        if (limit.userId() != null) {
            entry.put("user_id", limit.userId());
        }
        entry.put("mode", limit.mode());
        entry.put("window_seconds", limit.windowSeconds());
        entry.put("resets_at", limit.resetsAt());
        if (limit.messages() != null) {
            entry.put("limit", limit.messages().limit());
            entry.put("used", limit.messages().used());
        } else {
            Map<String, Object> users = new LinkedHashMap<>();
            limit.users().forEach(user -> users.put(user.userId(), user.messages().used()));
            entry.put("users", users);
        }
        entry.put("held", limit.held());
        return entry;
    }

    private List<String> scope(Exchange exchange, String workspaceParam) {
        QueryParameters q = new QueryParameters();
        String requested = q.text("workspace", workspaceParam, 128);
        q.check();
        String scope = callers.scope(exchange, requested);
        return scope == null ? rateLimits.workspaces() : List.of(scope);
    }

    /** Send events since the start of the UTC day, by workspace (one workspace, or every one). */
    private Map<String, Long> sentToday(String workspace, Instant now) {
        Timestamp midnight = Timestamp.from(LocalDate.ofInstant(now, ZoneOffset.UTC).atStartOfDay()
                .toInstant(ZoneOffset.UTC));
        Map<String, Long> sent = new HashMap<>();
        String sql = "select workspace_id, count(*) from events where type = 'send' and created_at >= ?"
                + (workspace == null ? "" : " and workspace_id = ?") + " group by workspace_id";
        Object[] args = workspace == null ? new Object[] {midnight} : new Object[] {midnight, workspace};
        jdbc.query(sql, row -> {
            sent.put(row.getString(1), row.getLong(2));
        }, args);
        return sent;
    }
}
