package com.mailrelay.store;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.Priority;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The claim rank of a message (messages.claim_rank): the claim takes due messages in rank order,
 * so this is where priority and fairness are decided — start-time fair queuing tags on a clock.
 *
 * <p>A new message of workspace W at level p, due at d, ranks at
 * {@code max(d - headStart(p), last[W,p]) + 1/rate(p)}, {@code last} being the rank this instance
 * gave the previous message of that stream. A stream's backlog is so spread out in rank at its
 * level's rate, while the first message of another stream ranks near now: it is claimed after at
 * most the ranks already in front of it, not behind the whole backlog. The higher levels rank
 * their head start earlier and are spread at a larger rate; under overload the streams share the
 * claims in proportion to their rates, so low still progresses. With nothing else due, a spread
 * backlog is claimed as fast as the workers go: a rank ahead of the clock is no wait.
 *
 * <p>A message due again (a retry, a lease given back or run out, an operator's retry or replay)
 * ranks at its new due time less its level's head start, without a stream: it was spread once.
 *
 * <p>When the ranks claimed fall behind the clock (a stream spread at a rate faster than the
 * workers deliver), due times are moved back by that lag, which this instance reads from its own
 * full claims: otherwise a newcomer at "now" would wait behind every backlog rank between the
 * head of the queue and now. The lag is forgotten at the first claim that is not full.
 *
 * <p>{@code last} is kept in memory, per instance, and starts empty: after a restart a stream's
 * new messages rank from their due time again, ahead of (interleaved with) its older backlog,
 * which keeps the ranks it had. Instances accepting for one stream each spread it at the rate, so
 * with n of them a stream's share is up to n times its rate's. Both err towards the tenant whose
 * backlog it is, never starve another one, and cost no query on the accept path.
 */
@Component
public class ClaimRanks {

    /**
     * The SQL of a rank for a row's own level: {@code ?} parameters in the order of
     * {@link #positional}, one per level from critical down.
     */
    public static final String POSITIONAL = "case priority when 3 then " + timestamp("?") + " when 2 then "
            + timestamp("?") + " when 1 then " + timestamp("?") + " else " + timestamp("?") + " end";
    /** The same with the named parameters of {@link #named}. */
    public static final String NAMED = "case priority when 3 then " + timestamp(":rankCritical") + " when 2 then "
            + timestamp(":rankHigh") + " when 1 then " + timestamp(":rankNormal") + " else " + timestamp(":rankLow")
            + " end";

    /**
     * A parameter typed: PostgreSQL's driver sends timestamps untyped, and a CASE of untyped
     * parameters would be text.
     */
    private static String timestamp(String parameter) {
        return "cast(" + parameter + " as timestamp with time zone)";
    }

    private final RelayProperties.QueuePriorities levels;
    private final Clock clock;
    private final Map<String, Instant> last = new ConcurrentHashMap<>();
    /** How far the claimed ranks are behind the clock (zero unless the claims are full and behind). */
    private volatile Duration lag = Duration.ZERO;

    @Autowired
    public ClaimRanks(RelayProperties properties, Clock clock) {
        this(properties.queuePriorities(), clock);
    }

    ClaimRanks(RelayProperties.QueuePriorities levels, Clock clock) {
        this.levels = levels == null ? new RelayProperties.QueuePriorities(null, null, null, null) : levels;
        this.clock = clock;
    }

    /** The rank of a new message of {@code workspaceId} at {@code level}, due at {@code due}; advances its stream. */
    public Instant next(String workspaceId, int level, Instant due) {
        Priority priority = Priority.ofLevel(level);
        RelayProperties.Level settings = levels.of(priority);
        Duration spacing = Duration.ofNanos(Math.max(1_000, Math.round(1_000_000_000d / settings.rate())));
        Instant start = due.minus(lag).minus(settings.headStart());
        return last.compute(workspaceId + '\u0000' + priority.level(),
                (stream, previous) -> (previous == null || previous.isBefore(start) ? start : previous).plus(spacing));
    }

    /** The rank of a message of {@code level} due again at {@code due} (no stream). */
    public Instant again(int level, Instant due) {
        return due.minus(lag).minus(levels.of(Priority.ofLevel(level)).headStart());
    }

    /** The ranks for a row due again at {@code due}, as {@link #POSITIONAL} takes them. */
    public Object[] positional(Instant due) {
        return new Object[] {rank(Priority.CRITICAL, due), rank(Priority.HIGH, due), rank(Priority.NORMAL, due),
                rank(Priority.LOW, due)};
    }

    /** The ranks for rows due again at {@code due}, as {@link #NAMED} takes them. */
    public Map<String, Object> named(Instant due) {
        Map<String, Object> ranks = new LinkedHashMap<>();
        ranks.put("rankCritical", rank(Priority.CRITICAL, due));
        ranks.put("rankHigh", rank(Priority.HIGH, due));
        ranks.put("rankNormal", rank(Priority.NORMAL, due));
        ranks.put("rankLow", rank(Priority.LOW, due));
        return ranks;
    }

    private Timestamp rank(Priority priority, Instant due) {
        return Timestamp.from(again(priority.level(), due));
    }

    /**
     * What a claim took: the latest rank it claimed, with that row's head start added back (so a
     * level's head start never reads as lag), and whether it was full. A full claim whose ranks
     * are behind the clock means a backlog ranked behind it: new ranks start there.
     */
    public void claimed(Instant latestRank, int level, boolean full) {
        if (!full || latestRank == null) {
            lag = Duration.ZERO;
            return;
        }
        Instant unshifted = latestRank.plus(levels.of(Priority.ofLevel(level)).headStart());
        Duration behind = Duration.between(unshifted, clock.instant());
        lag = behind.isNegative() ? Duration.ZERO : behind;
    }

    /** The current lag (for tests and the plan in bench/). */
    Duration lag() {
        return lag;
    }
}
