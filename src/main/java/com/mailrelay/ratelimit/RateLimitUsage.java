package com.mailrelay.ratelimit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.workspace.Workspaces;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Reads what {@link RateLimits} counted: a workspace's messages in the current window of its
 * limit, and each of its users' (the rows of rate_windows for that window only — a primary-key
 * range, never a scan). Read-only: the usage and rate-limit API (queuectl/) shows it against the
 * workspace's limits.
 */
@Component
public class RateLimitUsage {

    private final JdbcTemplate jdbc;
    private final Workspaces workspaces;

    public RateLimitUsage(JdbcTemplate jdbc, Workspaces workspaces) {
        this.jdbc = jdbc;
        this.workspaces = workspaces;
    }

    /** A user's count in the current window. */
    public record UserUsage(String userId, int used) {
    }

    /**
     * The workspace's current window.
     *
     * @param limit        the workspace's limit (null: its messages are not limited, or it has no limit at all)
     * @param used         its messages counted in the window (counted only while it has a limit)
     * @param limitPerUser each user's limit (null: none)
     * @param users        the users counted in this window, most first
     */
    public record Usage(String workspace, long windowSeconds, Instant windowStart, Instant resetsAt, Integer limit,
                        int used, Integer limitPerUser, List<UserUsage> users) {
    }

    /** The usage of one workspace at {@code now}; a workspace without limits has a window of its default size. */
    public Usage usage(String workspace, Instant now) {
        RelayProperties.Workspace settings = workspaces.find(workspace).orElse(null);
        RelayProperties.RateLimit limit = settings == null ? null : settings.rateLimit();
        java.time.Duration window = limit == null ? java.time.Duration.ofMinutes(1) : limit.window();
        Instant start = RateLimits.windowStart(now, window);
        Timestamp at = Timestamp.from(start);
        List<Integer> own = jdbc.queryForList("select messages from rate_windows where scope = ? and window_start = ?",
                Integer.class, "workspace:" + workspace, at);
        String prefix = "user:" + workspace + ":";
        List<UserUsage> users = jdbc.query("""
                select scope, messages from rate_windows
                 where scope like ? escape '!' and window_start = ? and messages > 0
                 order by messages desc, scope
                 fetch first 1000 rows only""",
                (row, n) -> new UserUsage(row.getString(1).substring(prefix.length()), row.getInt(2)),
                likePrefix(prefix), at);
        return new Usage(workspace, window.toSeconds(), start, start.plus(window),
                limit == null ? null : limit.messages(), own.isEmpty() ? 0 : own.get(0),
                limit == null ? null : limit.messagesPerUser(), users);
    }

    /** The names of every workspace (configured or made through the API), for a listing of every one. */
    public List<String> workspaces() {
        return workspaces.all().keySet().stream().sorted().toList();
    }

    private static String likePrefix(String prefix) {
        return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%";
    }
}
