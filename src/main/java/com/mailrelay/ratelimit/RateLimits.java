package com.mailrelay.ratelimit;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.config.RelayProperties.LimitMode;
import com.mailrelay.config.RelayProperties.LimitPer;
import com.mailrelay.message.LimitHold;
import com.mailrelay.message.RateLimitedException;
import com.mailrelay.workspace.Workspaces;
import org.springframework.dao.PessimisticLockingFailureException;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Message limits over fixed windows — of the whole relay (relay.rate-limits), of a workspace and of
 * each of its users (relay.workspaces.&lt;id&gt;.rate-limit) — counted in the database inside the
 * accept transaction: a message is counted exactly when it is stored, and every instance on the
 * database shares the counts. Workspaces without a limit cost nothing here.
 * <p>
 * A hard limit whose window is full refuses the message. A soft one moves it to the first of its
 * windows with room, where it is counted, so that no window is overfilled by held messages either;
 * every other limit then counts it in its own window of that time (a message is counted where it
 * is sent). Counts only ever rise under the conditional update, so two instances that race for the
 * last place of a window cannot both take it: the loser looks again from there.
 */
@Component
public class RateLimits {

    /** A soft limit holds a message at most this long; full for longer, it refuses instead. */
    static final Duration MAX_HOLD = Duration.ofDays(31);
    /** Full windows read at once while looking for one with room. */
    private static final int PAGE = 200;
    /** Races for the last place of a window lost in a row before the accept gives up (a 429). */
    private static final int MAX_RACES = 50;
    /** Lock timeouts of one counter waited out before the accept fails (see {@link #increment}). */
    private static final int LOCK_WAITS = 5;

    private final JdbcTemplate jdbc;
    private final Workspaces workspaces;
    private final RelayProperties properties;

    public RateLimits(JdbcTemplate jdbc, Workspaces workspaces, RelayProperties properties) {
        this.jdbc = jdbc;
        this.workspaces = workspaces;
        this.properties = properties;
    }

    /** Whether the workspace has any limit, its own or the relay's (and so needs a transaction to count in). */
    public boolean limited(String workspace) {
        if (!properties.rateLimits().isEmpty()) {
            return true;
        }
        RelayProperties.Workspace settings = workspaces.find(workspace).orElse(null);
        return settings != null && settings.rateLimit() != null && settings.rateLimit().limited();
    }

    /**
     * One limit as it applies to one message.
     *
     * @param scope       its counter in rate_windows (one row per window)
     * @param per         "global", "workspace" or "user"
     * @param userId      the user of a per-user limit, else null
     * @param custom      whether it is one of the user's custom limits
     * @param description what it allows, in words
     */
    record Applied(String scope, Duration window, int messages, LimitMode mode, String per, String userId,
                   boolean custom, String description) {

        boolean soft() {
            return mode == LimitMode.SOFT;
        }
    }

    /**
     * The limits a message of {@code workspace} (and of {@code userId}, null for none) is counted
     * against: the relay's, the workspace's, and the user's (the user's own custom limits in place
     * of the per-user defaults). Always in this order, so that concurrent accepts lock the
     * counters they share in the same order.
     */
    List<Applied> applicable(String workspace, String userId) {
        return distinct(declared(workspace, userId));
    }

    /**
     * One limit per counter: two limits of one list with the same window (the admin API refuses
     * them, application.yml may have them) would count each message twice in it. The first stays.
     */
    private static List<Applied> distinct(List<Applied> limits) {
        Map<String, Applied> byScope = new java.util.LinkedHashMap<>();
        limits.forEach(limit -> byScope.putIfAbsent(limit.scope(), limit));
        return List.copyOf(byScope.values());
    }

    private List<Applied> declared(String workspace, String userId) {
        List<Applied> applied = new ArrayList<>();
        for (RelayProperties.Limit limit : properties.rateLimits()) {
            applied.add(new Applied(words(limit.window()) + "/global", limit.window(), limit.messages(),
                    mode(limit.mode()), "global", null, false, "the relay (all workspaces together) may send "
                    + limit.messages() + " messages per " + words(limit.window())));
        }
        RelayProperties.Workspace settings = workspaces.find(workspace).orElse(null);
        RelayProperties.RateLimit limit = settings == null ? null : settings.rateLimit();
        if (limit == null || !limit.limited()) {
            return applied;
        }
        LimitMode mode = mode(limit.mode());
        List<RelayProperties.Limit> more = limit.limits() == null ? List.of() : limit.limits();
        // Today's keys keep their counters (scope without a window), so their counts stay where they were.
        if (limit.messages() != null) {
            applied.add(workspaceLimit("workspace:" + workspace, workspace, limit.window(), limit.messages(), mode));
        }
        for (RelayProperties.Limit each : more) {
            if (each.per() != LimitPer.USER) {
                applied.add(workspaceLimit(words(each.window()) + "/workspace:" + workspace, workspace,
                        each.window(), each.messages(), mode(each.mode())));
            }
        }
        if (userId == null) {
            return applied;
        }
        Map<String, List<RelayProperties.Limit>> custom = limit.customUserLimits() == null ? Map.of()
                : limit.customUserLimits();
        List<RelayProperties.Limit> own = custom.get(userId);
        if (own != null) {
            for (RelayProperties.Limit each : own) {
                applied.add(userLimit(words(each.window()) + "/user:" + workspace + ":" + userId, userId,
                        "user " + userId, each.window(), each.messages(), mode(each.mode()), true));
            }
            return applied;
        }
        applied.addAll(declaredUserDefaults(workspace, limit, userId));
        return applied;
    }

    /**
     * The per-user defaults of the workspace for {@code userId}; for null, each with its scope's
     * prefix (the scope less the user id: where every user's counter of it begins) and "each user".
     */
    List<Applied> userDefaults(String workspace, RelayProperties.RateLimit limit, String userId) {
        return distinct(declaredUserDefaults(workspace, limit, userId));
    }

    private List<Applied> declaredUserDefaults(String workspace, RelayProperties.RateLimit limit, String userId) {
        List<Applied> applied = new ArrayList<>();
        String user = userId == null ? "" : userId;
        String who = userId == null ? "each user" : "user " + userId;
        if (limit.messagesPerUser() != null) {
            applied.add(userLimit("user:" + workspace + ":" + user, userId, who, limit.window(),
                    limit.messagesPerUser(), mode(limit.mode()), false));
        }
        for (RelayProperties.Limit each : limit.limits() == null ? List.<RelayProperties.Limit>of() : limit.limits()) {
            if (each.per() == LimitPer.USER) {
                applied.add(userLimit(words(each.window()) + "/user:" + workspace + ":" + user, userId, who,
                        each.window(), each.messages(), mode(each.mode()), false));
            }
        }
        return applied;
    }

    private static Applied workspaceLimit(String scope, String workspace, Duration window, int messages,
                                          LimitMode mode) {
        return new Applied(scope, window, messages, mode, "workspace", null, false,
                "workspace " + workspace + " may send " + messages + " messages per " + words(window));
    }

    private static Applied userLimit(String scope, String userId, String who, Duration window, int messages,
                                     LimitMode mode, boolean custom) {
        return new Applied(scope, window, messages, mode, "user", userId, custom,
                who + " may be sent " + messages + " messages per " + words(window));
    }

    private static LimitMode mode(LimitMode mode) {
        return mode == null ? LimitMode.HARD : mode;
    }

    /**
     * Counts one message against every limit of its workspace and user (userId null: none), in the
     * caller's transaction.
     *
     * @param sendAt when the client asked it to be sent (null: now); it is counted in the windows of then
     * @return null when it may go when asked; else the hold its soft limits put on it
     * @throws RateLimitedException over a hard limit, or a soft one full for {@link #MAX_HOLD}, every
     *                              count left as it was
     */
    public LimitHold take(String workspace, String userId, Instant now, Instant sendAt) {
        List<Applied> limits = applicable(workspace, userId);
        if (limits.isEmpty()) {
            return null;
        }
        Instant asked = sendAt != null && sendAt.isAfter(now) ? sendAt : now;
        Instant at = asked;
        Applied holding = null;
        for (int race = 0; race < MAX_RACES; race++) {
            // The earliest time at which every soft limit has room: each may push it on, and a
            // later time may land in a full window of another, so until none moves it.
            boolean moved = true;
            while (moved) {
                moved = false;
                for (Applied limit : limits) {
                    if (!limit.soft()) {
                        continue;
                    }
                    Instant start = windowStart(at, limit.window());
                    if (limit.messages() == 0) {
                        // No window will ever have room: refused, not held for ever.
                        throw refused(limit, now, start.plus(limit.window()), "it allows none");
                    }
                    Instant free = firstWithRoom(limit, start, asked.plus(MAX_HOLD));
                    if (free == null) {
                        throw refused(limit, now, start.plus(limit.window()), "its windows are full for the next "
                                + words(MAX_HOLD));
                    }
                    if (free.isAfter(start)) {
                        at = free;
                        holding = limit;
                        moved = true;
                    }
                }
            }
            Applied full = null;
            List<Applied> taken = new ArrayList<>(limits.size());
            for (Applied limit : limits) {
                if (!increment(limit, windowStart(at, limit.window()), windowStart(now, limit.window()))) {
                    full = limit;
                    break;
                }
                taken.add(limit);
            }
            if (full == null) {
                if (holding == null) {
                    return null;
                }
                return new LimitHold(at, "held by a soft limit (" + holding.description() + "): sent from " + at);
            }
            for (Applied done : taken) {
                decrement(done, windowStart(at, done.window()));
            }
            if (!full.soft()) {
                Instant ends = windowStart(at, full.window()).plus(full.window());
                throw refused(full, now, ends, null);
            }
            // A soft window filled meanwhile (another accept took its last place): look again.
        }
        throw new RateLimitedException("rate limit reached: too many accepts raced for the same windows; try again",
                1);
    }

    private static RateLimitedException refused(Applied limit, Instant now, Instant ends, String why) {
        long retryAfter = Math.max(1, Duration.between(now, ends).toSeconds());
        return new RateLimitedException("rate limit reached: " + limit.description()
                + (why == null ? "" : " (soft; " + why + ")") + "; try again in " + retryAfter + " s", retryAfter);
    }

    /**
     * The start of the first window from {@code start} on that is not full, or null when there is
     * none before {@code horizon}. Only full windows have to be read (a primary-key range): the
     * first gap between them is the answer.
     */
    private Instant firstWithRoom(Applied limit, Instant start, Instant horizon) {
        Instant candidate = start;
        while (candidate.isBefore(horizon)) {
            List<Timestamp> full = jdbc.queryForList("""
                    select window_start from rate_windows
                     where scope = ? and window_start >= ? and window_start < ? and messages >= ?
                     order by window_start
                     fetch first %d rows only""".formatted(PAGE), Timestamp.class, limit.scope(),
                    Timestamp.from(candidate), Timestamp.from(horizon), limit.messages());
            for (Timestamp row : full) {
                Instant windowStart = row.toInstant();
                if (windowStart.isAfter(candidate)) {
                    return candidate;
                }
                if (windowStart.equals(candidate)) {
                    candidate = candidate.plus(limit.window());
                }
            }
            if (full.size() < PAGE) {
                return candidate.isBefore(horizon) ? candidate : null;
            }
        }
        return null;
    }

    /**
     * A counter another open transaction has counted in (a group commit of this or another instance)
     * is waited for; H2 gives up such a wait after its lock timeout (2 s) with the statement alone
     * undone, so under load the wait is taken up again a few times before the accept fails (503 / 451).
     * PostgreSQL waits as long as it takes.
     */
    private boolean increment(Applied limit, Instant windowStart, Instant currentStart) {
        for (int wait = 1; ; wait++) {
            try {
                return tryIncrement(limit, windowStart, currentStart);
            } catch (QueryTimeoutException | PessimisticLockingFailureException busy) {
                if (wait >= LOCK_WAITS) {
                    throw busy;
                }
            }
        }
    }

    private boolean tryIncrement(Applied limit, Instant windowStart, Instant currentStart) {
        Timestamp start = Timestamp.from(windowStart);
        int created = jdbc.update("""
                insert into rate_windows (scope, window_start, messages) values (?, ?, 0)
                on conflict do nothing""", limit.scope(), start);
        if (created == 1) {
            // A new window: the scope's windows before the one before now are of no more use (the
            // windows after now hold the counts of soft-held messages, and stay).
            jdbc.update("delete from rate_windows where scope = ? and window_start < ?", limit.scope(),
                    Timestamp.from(currentStart.minus(limit.window())));
        }
        return jdbc.update("""
                update rate_windows set messages = messages + 1
                 where scope = ? and window_start = ? and messages < ?""",
                limit.scope(), start, limit.messages()) == 1;
    }

    private void decrement(Applied limit, Instant windowStart) {
        jdbc.update("update rate_windows set messages = messages - 1 where scope = ? and window_start = ?",
                limit.scope(), Timestamp.from(windowStart));
    }

    /** Windows are aligned to the epoch, so every instance agrees on where one begins. */
    static Instant windowStart(Instant now, Duration window) {
        long size = window.toMillis();
        return Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), size) * size);
    }

    /** A window in the words of application.yml (2s, 1m, 24h: a day is 24h), as the counters and messages name it. */
    static String words(Duration window) {
        long millis = window.toMillis();
        if (millis % 1000 != 0) {
            return millis + "ms";
        }
        long seconds = millis / 1000;
        if (seconds % 3600 == 0) {
            return seconds / 3600 + "h";
        }
        if (seconds % 60 == 0) {
            return seconds / 60 + "m";
        }
        return seconds + "s";
    }
}
