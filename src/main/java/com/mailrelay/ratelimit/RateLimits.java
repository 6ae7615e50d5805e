package com.mailrelay.ratelimit;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.RateLimitedException;
import com.mailrelay.workspace.Workspaces;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Per-workspace and per-user message limits over fixed windows, counted in the database inside the
 * accept transaction: a message is counted exactly when it is stored, and every instance on the
 * database shares the counts. Workspaces without a limit cost nothing here.
 */
@Component
public class RateLimits {

    private final JdbcTemplate jdbc;
    private final Workspaces workspaces;

    public RateLimits(JdbcTemplate jdbc, Workspaces workspaces) {
        this.jdbc = jdbc;
        this.workspaces = workspaces;
    }

    /** Whether the workspace has any limit (and so needs a transaction to count in). */
    public boolean limited(String workspace) {
        RelayProperties.Workspace settings = workspaces.find(workspace).orElse(null);
        return settings != null && settings.rateLimit() != null && settings.rateLimit().limited();
    }

    private record Counter(String scope, int limit, String description) {
    }

    /**
     * Counts one message against the workspace's limits (and its user's, if the submission names
     * one), or throws {@link RateLimitedException} leaving every count as it was.
     */
    public void take(String workspace, String userId, Instant now) {
        RelayProperties.Workspace settings = workspaces.find(workspace).orElse(null);
        RelayProperties.RateLimit limit = settings == null ? null : settings.rateLimit();
        if (limit == null || !limit.limited()) {
            return;
        }
        List<Counter> counters = new ArrayList<>(2);
        if (limit.messages() != null) {
            counters.add(new Counter("workspace:" + workspace, limit.messages(),
                    "workspace " + workspace + " may send " + limit.messages()));
        }
        if (limit.messagesPerUser() != null && userId != null) {
            counters.add(new Counter("user:" + workspace + ":" + userId, limit.messagesPerUser(),
                    "user " + userId + " may be sent " + limit.messagesPerUser()));
        }
        Instant windowStart = windowStart(now, limit.window());
        List<Counter> taken = new ArrayList<>(2);
        for (Counter counter : counters) {
            if (!increment(counter, windowStart, limit.window())) {
                taken.forEach(done -> decrement(done, windowStart));
                long retryAfter = Math.max(1, Duration.between(now, windowStart.plus(limit.window())).toSeconds());
                throw new RateLimitedException("rate limit reached: " + counter.description() + " messages per "
                        + limit.window().toString().substring(2).toLowerCase() + "; try again in " + retryAfter + " s",
                        retryAfter);
            }
            taken.add(counter);
        }
    }

    private boolean increment(Counter counter, Instant windowStart, Duration window) {
        Timestamp start = Timestamp.from(windowStart);
        int created = jdbc.update("""
                insert into rate_windows (scope, window_start, messages) values (?, ?, 0)
                on conflict do nothing""", counter.scope(), start);
        if (created == 1) {
            // A new window: the scope's earlier ones are of no more use.
            jdbc.update("delete from rate_windows where scope = ? and window_start < ?", counter.scope(),
                    Timestamp.from(windowStart.minus(window)));
        }
        return jdbc.update("""
                update rate_windows set messages = messages + 1
                 where scope = ? and window_start = ? and messages < ?""",
                counter.scope(), start, counter.limit()) == 1;
    }

    private void decrement(Counter counter, Instant windowStart) {
        jdbc.update("update rate_windows set messages = messages - 1 where scope = ? and window_start = ?",
                counter.scope(), Timestamp.from(windowStart));
    }

    /** Windows are aligned to the epoch, so every instance agrees on where one begins. */
    static Instant windowStart(Instant now, Duration window) {
        long size = window.toMillis();
        return Instant.ofEpochMilli(Math.floorDiv(now.toEpochMilli(), size) * size);
    }
}
