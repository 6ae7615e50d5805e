package com.mailrelay.retention;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.retention.RetentionReport.Counts;
import com.mailrelay.retention.RetentionReport.Kind;
import com.mailrelay.retention.RetentionReport.WorkspaceCounts;
import com.mailrelay.workspace.Workspaces;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Retention: what the relay stored is dropped once its window has passed, in batches of at most
 * relay.retention.batch-size rows, each batch one short transaction, so that nothing else waits
 * long behind it. Per workspace (its own relay.workspaces.&lt;id&gt;.retention, else relay.retention):
 * the raw MIME of a finished message (SENT, FAILED, REJECTED, CANCELLED with no next_attempt_at: a
 * message still due is never touched), then the message itself with its events; events still
 * waiting for a webhook after relay.retention.webhook-pending are given up (EXPIRED); and globally
 * the attempt logs and the audit log by their time.
 * <p>
 * Claims never wait for it: they lock due rows (next_attempt_at set), retention only finished
 * ones, and its deletes lock their rows with {@code for update skip locked}, so two instances
 * running at once (or a run beside an engagement that locks a message) skip each other's rows
 * instead of waiting. The MIME pass changes no indexed column, so a pass would see the rows it
 * already emptied again; it starts where the previous pass of this process ended, less
 * {@link #OVERLAP} (a row finished with a lagging clock is still found), and from the oldest row at
 * the first pass after a start.
 * <p>
 * {@link #preview} counts what {@link #run} would do now, with the same queries' conditions and
 * nothing changed.
 */
@Component("retention")
public class Retention {

    private static final Logger log = LoggerFactory.getLogger(Retention.class);

    /** Final statuses: such a message changes no more, so its updated_at is when it finished. */
    static final List<String> FINAL = List.of(MessageStatus.SENT.name(), MessageStatus.FAILED.name(),
            MessageStatus.REJECTED.name(), MessageStatus.CANCELLED.name());

    /** How far back of where the previous MIME pass ended the next one starts. */
    static final Duration OVERLAP = Duration.ofDays(1);

    /** Rows a workspace may have that are deleted with its messages, as an SQL condition on messages m. */
    private static final String DELETABLE = """
            m.workspace_id = :workspace and m.status in (:final) and m.updated_at < :messagesBefore
             and m.next_attempt_at is null""";

    private final JdbcTemplate jdbc;
    private final NamedParameterJdbcTemplate named;
    private final TransactionTemplate transaction;
    private final Workspaces workspaces;
    private final RelayProperties.Retention settings;
    private final Clock clock;
    private final MeterRegistry meters;
    /** Per workspace and final status: the MIME pass dropped every raw MIME finished before this. */
    private final Map<String, Instant> mimeDoneBefore = new ConcurrentHashMap<>();

    public Retention(JdbcTemplate jdbc, TransactionTemplate transaction, Workspaces workspaces,
                     RelayProperties properties, Clock clock, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.named = new NamedParameterJdbcTemplate(jdbc);
        this.transaction = transaction;
        this.workspaces = workspaces;
        this.settings = properties.retention();
        this.clock = clock;
        this.meters = meters;
    }

    /** The windows of one workspace: its own where it sets them, else the global defaults. */
    record Windows(Duration rawMime, Duration messages) {
    }

    Windows windows(String workspace) {
        RelayProperties.WorkspaceRetention own = workspaces.find(workspace)
                .map(RelayProperties.Workspace::retention).orElse(null);
        return new Windows(own != null && own.rawMime() != null ? own.rawMime() : settings.rawMime(),
                own != null && own.messages() != null ? own.messages() : settings.messages());
    }

    /** The timer's run (route retention-run): every workspace. */
    public RetentionReport scheduled() {
        RetentionReport report = run(null);
        if (report.total().sum() > 0) {
            log.info("retention: {}", report.total());
        }
        return report;
    }

    /** Drops and deletes what is past its window, in the workspace (null: all of them). */
    public RetentionReport run(String scope) {
        return survey(scope, false);
    }

    /** What {@link #run} would drop and delete now, changing nothing. */
    public RetentionReport preview(String scope) {
        return survey(scope, true);
    }

    private RetentionReport survey(String scope, boolean dryRun) {
        Instant now = clock.instant();
        Map<String, long[]> tallies = new HashMap<>();
        Map<String, Windows> windowsOf = new HashMap<>();
        for (String workspace : scope != null ? List.of(scope) : messageWorkspaces()) {
            Windows windows = windows(workspace);
            windowsOf.put(workspace, windows);
            long[] tally = tallies.computeIfAbsent(workspace, w -> new long[Kind.values().length]);
            Instant messagesBefore = now.minus(windows.messages());
            Instant mimeBefore = now.minus(windows.rawMime());
            Instant webhookBefore = now.minus(settings.webhookPending());
            if (dryRun) {
                countMessages(workspace, messagesBefore, tally);
                countMime(workspace, messagesBefore, mimeBefore, tally);
                countExpired(workspace, messagesBefore, webhookBefore, tally);
            } else {
                deleteMessages(workspace, messagesBefore, tally);
                dropMime(workspace, messagesBefore, mimeBefore, tally);
                expireWebhookEvents(workspace, webhookBefore, tally);
            }
        }
        Instant attemptsBefore = now.minus(settings.attempts());
        byTime("delivery_attempts", "started_at", attemptsBefore, scope, Kind.DELIVERY_ATTEMPTS, dryRun, tallies);
        byTime("webhook_attempts", "attempted_at", attemptsBefore, scope, Kind.WEBHOOK_ATTEMPTS, dryRun, tallies);
        byTime("audit_log", "at", now.minus(settings.auditLog()), scope, Kind.AUDIT_LOG, dryRun, tallies);

        List<WorkspaceCounts> entries = new ArrayList<>();
        long[] total = new long[Kind.values().length];
        tallies.entrySet().stream()
                .sorted(Map.Entry.comparingByKey(Comparator.nullsLast(Comparator.naturalOrder())))
                .forEach(entry -> {
                    Counts counts = Counts.of(entry.getValue());
                    if (counts.sum() == 0 && !Objects.equals(entry.getKey(), scope)) {
                        return;
                    }
                    Windows windows = entry.getKey() == null ? null
                            : windowsOf.computeIfAbsent(entry.getKey(), this::windows);
                    entries.add(new WorkspaceCounts(entry.getKey(), windows == null ? null : windows.rawMime(),
                            windows == null ? null : windows.messages(), counts));
                    for (int i = 0; i < total.length; i++) {
                        total[i] += entry.getValue()[i];
                    }
                });
        if (!dryRun) {
            // relay_retention_rows_total{kind}: what retention dropped or deleted, for dashboards and alerts.
            for (Kind kind : Kind.values()) {
                if (total[kind.ordinal()] > 0) {
                    meters.counter("relay.retention.rows", "kind", kind.name().toLowerCase(Locale.ROOT))
                            .increment(total[kind.ordinal()]);
                }
            }
        }
        return new RetentionReport(now, dryRun, entries, Counts.of(total));
    }

    /**
     * The workspaces that have messages, one index probe each (the leading column of
     * messages_retention): a workspace removed from the settings still has its rows expired, by the
     * global windows.
     */
    List<String> messageWorkspaces() {
        TreeSet<String> found = new TreeSet<>();
        String next = jdbc.queryForObject("select min(workspace_id) from messages", String.class);
        while (next != null) {
            found.add(next);
            next = jdbc.queryForObject("select min(workspace_id) from messages where workspace_id > ?", String.class,
                    next);
        }
        return List.copyOf(found);
    }

    // --- messages and their events --------------------------------------------------------------

    private void deleteMessages(String workspace, Instant before, long[] tally) {
        for (String status : FINAL) {
            int selected;
            do {
                long[] batch = transaction.execute(tx -> {
                    List<UUID> ids = jdbc.queryForList("""
                            select id from messages
                             where workspace_id = ? and status = ? and updated_at < ? and next_attempt_at is null
                             order by updated_at
                             limit ?
                               for update skip locked""", UUID.class, workspace, status, Timestamp.from(before),
                            settings.batchSize());
                    if (ids.isEmpty()) {
                        return new long[] {0, 0, 0};
                    }
                    // Events reference their message: they go first, in the same transaction.
                    int events = named.update("delete from events where message_id in (:ids)", Map.of("ids", ids));
                    int messages = named.update("delete from messages where id in (:ids)", Map.of("ids", ids));
                    return new long[] {ids.size(), messages, events};
                });
                selected = (int) batch[0];
                tally[Kind.MESSAGES.ordinal()] += batch[1];
                tally[Kind.EVENTS.ordinal()] += batch[2];
            } while (selected == settings.batchSize());
        }
    }

    private void countMessages(String workspace, Instant before, long[] tally) {
        Map<String, Object> arguments = arguments(workspace, before);
        tally[Kind.MESSAGES.ordinal()] += count("select count(*) from messages m where " + DELETABLE, arguments);
        tally[Kind.EVENTS.ordinal()] += count("select count(*) from events e where e.message_id in"
                + " (select m.id from messages m where " + DELETABLE + ")", arguments);
    }

    // --- raw MIME ---------------------------------------------------------------------------------

    /**
     * Empties raw_mime of the workspace's rows finished before {@code before} (and not deleted now,
     * i.e. finished after {@code messagesBefore}), oldest first, from where the previous pass ended.
     * The update checks again that the row is still finished: a row replayed meanwhile keeps its MIME.
     */
    private void dropMime(String workspace, Instant messagesBefore, Instant before, long[] tally) {
        if (!before.isAfter(messagesBefore)) {
            return;
        }
        for (String status : FINAL) {
            String key = workspace + '\u0000' + status;
            Instant from = mimeFrom(key, messagesBefore);
            List<Row> rows;
            do {
                rows = jdbc.query("""
                        select id, updated_at from messages
                         where workspace_id = ? and status = ? and updated_at >= ? and updated_at < ?
                           and next_attempt_at is null and raw_mime is not null
                         order by updated_at
                         limit ?""", (row, n) -> new Row(row.getObject("id"), row.getTimestamp("updated_at").toInstant()),
                        workspace, status, Timestamp.from(from), Timestamp.from(before), settings.batchSize());
                if (rows.isEmpty()) {
                    break;
                }
                List<Object> ids = rows.stream().map(Row::id).toList();
                Integer dropped = transaction.execute(tx -> named.update("""
                        update messages set raw_mime = null
                         where id in (:ids) and status = :status and next_attempt_at is null and raw_mime is not null""",
                        Map.of("ids", ids, "status", status)));
                tally[Kind.RAW_MIME.ordinal()] += dropped == null ? 0 : dropped;
                from = rows.get(rows.size() - 1).at();
            } while (rows.size() == settings.batchSize());
            mimeDoneBefore.put(key, before.minus(OVERLAP));
        }
    }

    private void countMime(String workspace, Instant messagesBefore, Instant before, long[] tally) {
        if (!before.isAfter(messagesBefore)) {
            return;
        }
        for (String status : FINAL) {
            Instant from = mimeFrom(workspace + '\u0000' + status, messagesBefore);
            tally[Kind.RAW_MIME.ordinal()] += jdbc.queryForObject("""
                    select count(*) from messages
                     where workspace_id = ? and status = ? and updated_at >= ? and updated_at < ?
                       and next_attempt_at is null and raw_mime is not null""", Long.class, workspace, status,
                    Timestamp.from(from), Timestamp.from(before));
        }
    }

    /** Where a MIME pass starts: where the last one ended (less the overlap), never before the rows deleted now. */
    private Instant mimeFrom(String key, Instant messagesBefore) {
        Instant done = mimeDoneBefore.get(key);
        return done != null && done.isAfter(messagesBefore) ? done : messagesBefore;
    }

    // --- events waiting for a webhook -------------------------------------------------------------

    /**
     * Gives up the workspace's oldest events still PENDING for its webhook when they were written
     * before {@code before}: they are taken in id order (the webhook queue's index) and the pass
     * stops at the first younger one, so a run reads no more than it changes plus one batch.
     */
    private void expireWebhookEvents(String workspace, Instant before, long[] tally) {
        String reason = "not delivered within relay.retention.webhook-pending (" + settings.webhookPending()
                + "): given up by retention";
        boolean more;
        do {
            List<Row> rows = jdbc.query("""
                    select id, created_at from events
                     where workspace_id = ? and delivery_state = 'PENDING'
                     order by id
                     limit ?""", (row, n) -> new Row(row.getLong("id"), row.getTimestamp("created_at").toInstant()),
                    workspace, settings.batchSize());
            List<Object> old = new ArrayList<>();
            for (Row row : rows) {
                if (!row.at().isBefore(before)) {
                    break;
                }
                old.add(row.id());
            }
            if (!old.isEmpty()) {
                Integer expired = transaction.execute(tx -> named.update("""
                        update events set delivery_state = 'EXPIRED', next_attempt_at = null, last_error = :reason
                         where id in (:ids) and delivery_state = 'PENDING'""", Map.of("ids", old, "reason", reason)));
                tally[Kind.WEBHOOK_EVENTS_EXPIRED.ordinal()] += expired == null ? 0 : expired;
            }
            more = old.size() == rows.size() && rows.size() == settings.batchSize();
        } while (more);
    }

    private void countExpired(String workspace, Instant messagesBefore, Instant before, long[] tally) {
        Map<String, Object> arguments = new HashMap<>(arguments(workspace, messagesBefore));
        arguments.put("before", Timestamp.from(before));
        String remaining = " e.workspace_id = :workspace and e.delivery_state = 'PENDING'"
                + " and e.message_id not in (select m.id from messages m where " + DELETABLE + ")";
        Long firstYoung = named.queryForObject("select min(e.id) from events e where" + remaining
                + " and e.created_at >= :before", arguments, Long.class);
        arguments.put("firstYoung", firstYoung == null ? Long.MAX_VALUE : firstYoung);
        tally[Kind.WEBHOOK_EVENTS_EXPIRED.ordinal()] += count("select count(*) from events e where" + remaining
                + " and e.created_at < :before and e.id < :firstYoung", arguments);
    }

    // --- logs deleted by their time ---------------------------------------------------------------

    private void byTime(String table, String column, Instant before, String scope, Kind kind, boolean dryRun,
                        Map<String, long[]> tallies) {
        String where = " where " + column + " < ?" + (scope == null ? "" : " and workspace_id = ?");
        Object[] arguments = scope == null ? new Object[] {Timestamp.from(before)}
                : new Object[] {Timestamp.from(before), scope};
        if (dryRun) {
            jdbc.query("select workspace_id, count(*) as n from " + table + where + " group by workspace_id",
                    row -> {
                        tally(tallies, row.getString("workspace_id"))[kind.ordinal()] += row.getLong("n");
                    }, arguments);
            return;
        }
        int selected;
        do {
            Map<String, Integer> deleted = transaction.execute(tx -> {
                List<Map<String, Object>> rows = jdbc.queryForList("select id, workspace_id from " + table + where
                        + " order by " + column + " limit " + settings.batchSize() + " for update skip locked",
                        arguments);
                Map<String, Integer> byWorkspace = new HashMap<>();
                if (!rows.isEmpty()) {
                    named.update("delete from " + table + " where id in (:ids)",
                            Map.of("ids", rows.stream().map(row -> row.get("id")).toList()));
                    rows.forEach(row -> byWorkspace.merge((String) row.get("workspace_id"), 1, Integer::sum));
                }
                byWorkspace.put("\u0000selected", rows.size());
                return byWorkspace;
            });
            selected = deleted.remove("\u0000selected");
            deleted.forEach((workspace, n) -> tally(tallies, workspace)[kind.ordinal()] += n);
        } while (selected == settings.batchSize());
    }

    /** A row found by a pass: its id and the time its window is counted from. */
    private record Row(Object id, Instant at) {
    }

    private static long[] tally(Map<String, long[]> tallies, String workspace) {
        return tallies.computeIfAbsent(workspace, w -> new long[Kind.values().length]);
    }

    private static Map<String, Object> arguments(String workspace, Instant messagesBefore) {
        return Map.of("workspace", workspace, "final", FINAL, "messagesBefore", Timestamp.from(messagesBefore));
    }

    private long count(String sql, Map<String, Object> arguments) {
        Long count = named.queryForObject(sql, arguments, Long.class);
        return count == null ? 0 : count;
    }
}
