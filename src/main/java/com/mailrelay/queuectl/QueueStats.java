package com.mailrelay.queuectl;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.MessageStatus;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/stats}: what happened to mail over a bounded window, in minute, hour or day
 * buckets (aligned to UTC), by workspace, email type, provider and/or campaign, and the queue as it
 * is now. Every figure is one indexed query over the window (V20__stats.sql) or over the due index,
 * never a table: the window is at most {@link #MAX_RANGE} (hour buckets {@link #MAX_HOURLY_RANGE},
 * minute buckets {@link #MAX_MINUTE_RANGE}), and a series has at most {@link #MAX_ROWS} rows.
 * <p>
 * The series counts events (one per recipient, as the webhooks get them): sent = send, deferred =
 * deferral, bounced = soft_bounce + hard_bounce (a delivery's, or a provider's later report),
 * failed = those bounces whose message ended FAILED, rejected = reject, opened = open, clicked =
 * click (repeats of the same link within relay.tracking.repeat-window are one event). Provider,
 * email type and campaign are the message's.
 */
@Component("queueStats")
public class QueueStats {

    static final Duration MAX_RANGE = Duration.ofDays(31);
    static final Duration MAX_HOURLY_RANGE = Duration.ofDays(7);
    static final Duration MAX_MINUTE_RANGE = Duration.ofHours(6);
    static final int MAX_ROWS = 5000;

    /** group_by names and the column of each. */
    private static final Map<String, String> DIMENSIONS = Map.of(
            "workspace", "e.workspace_id", "email_type", "m.email_type", "provider", "m.provider_id",
            "campaign", "m.campaign_id");
    private static final List<String> DIMENSION_ORDER = List.of("workspace", "email_type", "provider", "campaign");

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final Callers callers;

    public QueueStats(JdbcTemplate jdbc, Clock clock, Callers callers) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.callers = callers;
    }

    /** The queue now: messages waiting, by state, and how late the most overdue one is. */
    public record QueueView(long queued, long deferred, long sending, long due, long paused, Instant oldestDueAt,
                            Long oldestDueAgeSeconds) {
    }

    /** One bucket of one group; a dimension not grouped by is null. */
    public record Bucket(Instant start, String workspace, String emailType, String provider, String campaign,
                         long sent, long deferred, long failed, long bounced, long rejected, long opened,
                         long clicked) {
    }

    /**
     * @param messagesByStatus the messages accepted in the window, by their status now
     * @param truncated        the series had more than {@link #MAX_ROWS} rows: narrow the window or the grouping
     */
    public record StatsView(String workspace, Instant since, Instant until, String bucket, List<String> groupBy,
                            Map<String, Long> messagesByStatus, QueueView queue, List<Bucket> series,
                            boolean truncated) {
    }

    public StatsView stats(Exchange exchange, @Header("workspace") String workspaceParam,
                           @Header("since") String sinceParam, @Header("until") String untilParam,
                           @Header("bucket") String bucketParam, @Header("group_by") String groupByParam) {
        Instant now = clock.instant();
        QueryParameters q = new QueryParameters();
        String requested = q.text("workspace", workspaceParam, 128);
        Instant since = q.instant("since", sinceParam);
        Instant until = q.instant("until", untilParam);
        String bucket = bucketParam == null || bucketParam.isBlank() ? "hour" : bucketParam.trim().toLowerCase(Locale.ROOT);
        Bucketing bucketing = BUCKETS.get(bucket);
        if (bucketing == null) {
            q.invalid("bucket", "must be minute, hour or day");
            bucket = "hour";
            bucketing = BUCKETS.get(bucket);
        }
        List<String> groupBy = groupBy(q, groupByParam);
        Duration size = bucketing.size();
        Duration max = bucketing.maxRange();
        if (until == null) {
            until = now;
        }
        if (since == null) {
            since = until.minus(bucketing.defaultRange());
        }
        if (!since.isBefore(until)) {
            q.invalid("since", "must be before until");
        } else if (Duration.between(since, until).compareTo(max) > 0) {
            q.invalid("since", "the window from since to until may span at most " + span(max) + " with "
                    + bucket + " buckets");
        }
        q.check();
        String scope = callers.scope(exchange, requested);

        List<Bucket> rows = series(scope, since, until, size, groupBy);
        boolean truncated = rows.size() > MAX_ROWS;
        return new StatsView(scope, since, until, bucket, groupBy, byStatus(scope, since, until), queue(scope, now),
                truncated ? List.copyOf(rows.subList(0, MAX_ROWS)) : rows, truncated);
    }

    /** A bucket size: its length, the window a call reads when it names no since, and the widest it may read. */
    private record Bucketing(Duration size, Duration defaultRange, Duration maxRange) {
    }

    private static final Map<String, Bucketing> BUCKETS = Map.of(
            "minute", new Bucketing(Duration.ofMinutes(1), Duration.ofHours(1), MAX_MINUTE_RANGE),
            "hour", new Bucketing(Duration.ofHours(1), Duration.ofDays(1), MAX_HOURLY_RANGE),
            "day", new Bucketing(Duration.ofDays(1), Duration.ofDays(7), MAX_RANGE));

    /** "31 days", "6 hours". */
    private static String span(Duration max) {
        return max.toHours() % 24 == 0 ? max.toDays() + " days" : max.toHours() + " hours";
    }

    private static List<String> groupBy(QueryParameters q, String raw) {
        if (raw == null || raw.isBlank()) {
            return List.of();
        }
        Set<String> named = new LinkedHashSet<>();
        for (String part : raw.split(",")) {
            String name = part.trim().toLowerCase(Locale.ROOT);
            if (!DIMENSIONS.containsKey(name)) {
                q.invalid("group_by", "must be a comma-separated list of " + DIMENSION_ORDER);
                return List.of();
            }
            named.add(name);
        }
        return DIMENSION_ORDER.stream().filter(named::contains).toList();
    }

    private List<Bucket> series(String scope, Instant since, Instant until, Duration size, List<String> groupBy) {
        // The bucket's size is a literal (60, 3600 or 86400, never the caller's text): a parameter in both
        // the select list and the group by would be two parameters to PostgreSQL, not one expression.
        String bucketExpression = "cast(floor(extract(epoch from e.created_at) / " + size.toSeconds() + ") as bigint)";
        StringBuilder select = new StringBuilder(bucketExpression + " as bucket");
        StringBuilder group = new StringBuilder(bucketExpression);
        for (String dimension : groupBy) {
            select.append(", ").append(DIMENSIONS.get(dimension)).append(" as ").append(dimension);
            group.append(", ").append(DIMENSIONS.get(dimension));
        }
        List<Object> args = new ArrayList<>(List.of(Timestamp.from(since), Timestamp.from(until)));
        String workspaceCondition = "";
        if (scope != null) {
            workspaceCondition = " and e.workspace_id = ?";
            args.add(scope);
        }
        args.add(MAX_ROWS + 1);
        String sql = "select " + select + """
                , sum(case when e.type = 'send' then 1 else 0 end) as sent,
                  sum(case when e.type = 'deferral' then 1 else 0 end) as deferred,
                  sum(case when e.type in ('soft_bounce', 'hard_bounce') and m.status = 'FAILED' then 1 else 0 end)
                      as failed,
                  sum(case when e.type in ('soft_bounce', 'hard_bounce') then 1 else 0 end) as bounced,
                  sum(case when e.type = 'reject' then 1 else 0 end) as rejected,
                  sum(case when e.type = 'open' then 1 else 0 end) as opened,
                  sum(case when e.type = 'click' then 1 else 0 end) as clicked
                  from events e join messages m on m.id = e.message_id
                 where e.created_at >= ? and e.created_at < ?""" + workspaceCondition
                + " group by " + group + " order by " + group + " fetch first ? rows only";
        return jdbc.query(sql, (row, n) -> bucket(row, size, groupBy), args.toArray());
    }

    private static Bucket bucket(ResultSet row, Duration size, List<String> groupBy) throws SQLException {
        Instant start = Instant.ofEpochSecond(row.getLong("bucket") * size.toSeconds());
        return new Bucket(start, dimension(row, groupBy, "workspace"), dimension(row, groupBy, "email_type"),
                dimension(row, groupBy, "provider"), dimension(row, groupBy, "campaign"), row.getLong("sent"),
                row.getLong("deferred"), row.getLong("failed"), row.getLong("bounced"), row.getLong("rejected"),
                row.getLong("opened"), row.getLong("clicked"));
    }

    private static String dimension(ResultSet row, List<String> groupBy, String name) throws SQLException {
        return groupBy.contains(name) ? row.getString(name) : null;
    }

    /** Messages accepted in the window by their status now; every status present, 0 when none. */
    private Map<String, Long> byStatus(String scope, Instant since, Instant until) {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (MessageStatus status : MessageStatus.values()) {
            counts.put(status.name(), 0L);
        }
        String sql = "select status, count(*) from messages where queued_at >= ? and queued_at < ?"
                + (scope == null ? "" : " and workspace_id = ?") + " group by status";
        Object[] args = scope == null ? new Object[] {Timestamp.from(since), Timestamp.from(until)}
                : new Object[] {Timestamp.from(since), Timestamp.from(until), scope};
        jdbc.query(sql, row -> {
            counts.put(row.getString(1), row.getLong(2));
        }, args);
        return counts;
    }

    /**
     * The queue now, from the due index (a message needs work exactly while next_attempt_at is set):
     * waiting by status; due = claimable now; paused = waiting under a pause (queue_pauses);
     * the oldest due time among the claimable ones, and how long ago that was.
     */
    private QueueView queue(String scope, Instant now) {
        Timestamp at = Timestamp.from(now);
        String sql = """
                select status, paused, count(*) as n, sum(due) as due,
                       min(case when due = 1 then next_attempt_at end) as oldest
                  from (select m.status, m.next_attempt_at,
                               case when m.next_attempt_at <= ? then 1 else 0 end as due,
                               case when exists (select 1 from queue_pauses p
                                                  where p.workspace_id in (m.workspace_id, '*')
                                                    and p.email_type in (m.email_type, '*')) then 1 else 0 end
                                   as paused
                          from messages m
                         where m.next_attempt_at is not null""" + (scope == null ? "" : " and m.workspace_id = ?") + """
                       ) q
                 group by status, paused""";
        Object[] args = scope == null ? new Object[] {at} : new Object[] {at, scope};
        long[] byStatus = new long[3];
        long[] due = new long[1];
        long[] paused = new long[1];
        Instant[] oldest = new Instant[1];
        jdbc.query(sql, row -> {
            String status = row.getString("status");
            long n = row.getLong("n");
            boolean held = row.getInt("paused") == 1;
            switch (status) {
                case "QUEUED" -> byStatus[0] += n;
                case "DEFERRED" -> byStatus[1] += n;
                case "SENDING" -> byStatus[2] += n;
                default -> { }
            }
            if (held) {
                paused[0] += "SENDING".equals(status) ? 0 : n;
                return;
            }
            if (!"SENDING".equals(status)) {
                due[0] += row.getLong("due");
                Timestamp first = row.getTimestamp("oldest");
                if (first != null && (oldest[0] == null || first.toInstant().isBefore(oldest[0]))) {
                    oldest[0] = first.toInstant();
                }
            }
        }, args);
        return new QueueView(byStatus[0], byStatus[1], byStatus[2], due[0], paused[0], oldest[0],
                oldest[0] == null ? null : Math.max(0, Duration.between(oldest[0], now).toSeconds()));
    }
}
