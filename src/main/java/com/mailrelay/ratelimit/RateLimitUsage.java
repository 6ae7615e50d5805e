package com.mailrelay.ratelimit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.workspace.Workspaces;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Reads what {@link RateLimits} counted: a workspace's messages in the current window of its
 * limit, and each of its users' (the rows of rate_windows for that window only — a primary-key
 * range, never a scan), and the same for every limit it is counted against (the relay's, its
 * own windows, the per-user defaults and each custom user's), with what soft limits hold for
 * their later windows. Read-only: the usage and rate-limit API (queuectl/) shows it against the
 * workspace's limits.
 */
@Component
public class RateLimitUsage {

    private final JdbcTemplate jdbc;
    private final Workspaces workspaces;
    private final RateLimits rateLimits;

    public RateLimitUsage(JdbcTemplate jdbc, Workspaces workspaces, RateLimits rateLimits) {
        this.jdbc = jdbc;
        this.workspaces = workspaces;
        this.rateLimits = rateLimits;
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
                        int used, Integer limitPerUser, List<UserUsage> users, List<LimitUsage> limits) {
    }

    /**
     * One limit the workspace's messages are counted against, in its current window.
     *
     * @param per    "global" (the relay's, all workspaces together), "workspace" or "user"
     * @param userId the user of a custom user limit; null for the others
     * @param used   the messages counted in the current window; null for a per-user default (see users)
     * @param held   messages a soft limit holds for its later windows (counted there); 0 for a hard one
     * @param users  for a per-user default: the users counted in the current window, most first
     */
    public record LimitUsage(String limit, String per, String userId, String mode, long windowSeconds,
                             Instant windowStart, Instant resetsAt, int messages, Integer used, long held,
                             List<UserUsage> users) {
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
                limit == null ? null : limit.messagesPerUser(), users, limits(workspace, limit, now));
    }

    /** Every limit of the workspace: the relay's, its own, each per-user default and each user's own. */
    private List<LimitUsage> limits(String workspace, RelayProperties.RateLimit limit, Instant now) {
        List<RateLimits.Applied> applied = new ArrayList<>(rateLimits.applicable(workspace, null));
        if (limit != null && limit.limited()) {
            applied.addAll(rateLimits.userDefaults(workspace, limit, null));
            if (limit.customUserLimits() != null) {
                limit.customUserLimits().keySet().stream().sorted().forEach(user ->
                        rateLimits.applicable(workspace, user).stream().filter(RateLimits.Applied::custom)
                                .forEach(applied::add));
            }
        }
        return applied.stream().map(each -> usage(each, now)).toList();
    }

    private LimitUsage usage(RateLimits.Applied limit, Instant now) {
        Instant start = RateLimits.windowStart(now, limit.window());
        Timestamp at = Timestamp.from(start);
        String mode = limit.mode().name().toLowerCase(Locale.ROOT);
        if ("user".equals(limit.per()) && !limit.custom()) {
            // A per-user default's scope is the prefix of each user's counter of it.
            String prefix = limit.scope();
            List<UserUsage> users = jdbc.query("""
                    select scope, messages from rate_windows
                     where scope like ? escape '!' and window_start = ? and messages > 0
                     order by messages desc, scope
                     fetch first 1000 rows only""",
                    (row, n) -> new UserUsage(row.getString(1).substring(prefix.length()), row.getInt(2)),
                    likePrefix(prefix), at);
            return new LimitUsage(limit.description(), limit.per(), null, mode, limit.window().toSeconds(), start,
                    start.plus(limit.window()), limit.messages(), null, 0, users);
        }
        List<Integer> used = jdbc.queryForList("select messages from rate_windows where scope = ? and window_start = ?",
                Integer.class, limit.scope(), at);
        Long held = limit.soft() ? jdbc.queryForObject(
                "select coalesce(sum(messages), 0) from rate_windows where scope = ? and window_start > ?",
                Long.class, limit.scope(), at) : null;
        return new LimitUsage(limit.description(), limit.per(), limit.userId(), mode, limit.window().toSeconds(),
                start, start.plus(limit.window()), limit.messages(), used.isEmpty() ? 0 : used.get(0),
                held == null ? 0 : held, List.of());
    }

    /** The names of every workspace (configured or made through the API), for a listing of every one. */
    public List<String> workspaces() {
        return workspaces.all().keySet().stream().sorted().toList();
    }

    private static String likePrefix(String prefix) {
        return prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%";
    }
}
