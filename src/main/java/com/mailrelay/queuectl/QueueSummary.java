package com.mailrelay.queuectl;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import com.mailrelay.api.Callers;
import com.mailrelay.api.QueryParameters;
import com.mailrelay.message.EmailType;
import com.mailrelay.workspace.Workspaces;
import org.apache.camel.Exchange;
import org.apache.camel.Header;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * {@code GET /api/v1/queue/summary}: the queue now by workspace × email type — waiting, due
 * (claimable now), held back by a pause, sending, deferred — with what ended today (UTC day): sent
 * and failed, and the pauses that cover each workspace and type. Two indexed queries: the waiting
 * mail over the due index (a message needs work exactly while next_attempt_at is set, V1
 * messages_due), today's outcomes over (workspace_id, status, updated_at) (V21 messages_retention),
 * one range per workspace shown; the pauses are the small queue_pauses table.
 * <p>
 * A workspace key sees its own workspace; the admin key every configured workspace (and any other
 * that still has mail waiting), or the one {@code ?workspace=} names.
 */
@Component("queueSummary")
public class QueueSummary {

    private static final List<String> TYPES = Arrays.stream(EmailType.values()).map(EmailType::id).toList();

    private final JdbcTemplate jdbc;
    private final Clock clock;
    private final Callers callers;
    private final Workspaces workspaces;

    public QueueSummary(JdbcTemplate jdbc, Clock clock, Callers callers, Workspaces workspaces) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.callers = callers;
        this.workspaces = workspaces;
    }

    /**
     * One workspace's mail of one email type.
     *
     * @param queued      QUEUED, due or not (a send_at ahead, a soft limit's hold)
     * @param due         QUEUED or DEFERRED whose time has come and no pause covers: claimable now
     * @param held        QUEUED or DEFERRED under a pause (due or not)
     * @param oldestDueAt the earliest next_attempt_at among the claimable ones
     * @param paused      a pause covers this workspace and type (its own, its '*', or every workspace's)
     */
    public record TypeCounts(String emailType, long queued, long due, long held, long sending, long deferred,
                             long sentToday, long failedToday, Instant oldestDueAt, boolean paused) {
    }

    /** A workspace: its four types (always all of them) and the pauses that hold back any of its mail. */
    public record WorkspaceSummary(String workspace, boolean enabled, List<TypeCounts> types, List<PauseView> pauses) {
    }

    /** @param today the start of the UTC day the *_today counts begin at */
    public record SummaryView(Instant asOf, Instant today, List<WorkspaceSummary> workspaces) {
    }

    public SummaryView summary(Exchange exchange, @Header("workspace") String workspaceParam) {
        QueryParameters q = new QueryParameters();
        String requested = q.text("workspace", workspaceParam, 128);
        q.check();
        String scope = callers.scope(exchange, requested);
        Instant now = clock.instant();
        Instant today = LocalDate.ofInstant(now, ZoneOffset.UTC).atStartOfDay(ZoneOffset.UTC).toInstant();

        Map<String, long[]> counts = new HashMap<>();
        Map<String, Instant> oldest = new HashMap<>();
        List<PauseView> pauses = jdbc.query("select * from queue_pauses order by workspace_id, email_type",
                (row, n) -> new PauseView(row.getString("workspace_id"), row.getString("email_type"),
                        row.getString("reason"), row.getString("paused_by"), row.getTimestamp("paused_at").toInstant()));

        TreeSet<String> shown = new TreeSet<>();
        if (scope != null) {
            shown.add(scope);
        } else {
            shown.addAll(workspaces.all().keySet());
        }

        // 0 queued, 1 due, 2 held, 3 sending, 4 deferred, 5 sent today, 6 failed today
        Timestamp at = Timestamp.from(now);
        String waiting = """
                select m.workspace_id, m.email_type, m.status, count(*) as n,
                       sum(case when m.next_attempt_at <= ? then 1 else 0 end) as due,
                       min(m.next_attempt_at) as oldest
                  from messages m
                 where m.next_attempt_at is not null""" + (scope == null ? "" : " and m.workspace_id = ?")
                + " group by m.workspace_id, m.email_type, m.status";
        jdbc.query(waiting, row -> {
            String workspace = row.getString("workspace_id");
            String type = row.getString("email_type");
            String status = row.getString("status");
            long n = row.getLong("n");
            long due = row.getLong("due");
            shown.add(workspace);
            long[] c = counts.computeIfAbsent(workspace + "/" + type, k -> new long[7]);
            switch (status) {
                case "QUEUED" -> c[0] += n;
                case "DEFERRED" -> c[4] += n;
                case "SENDING" -> c[3] += n;
                default -> { }
            }
            if ("SENDING".equals(status)) {
                return;
            }
            if (covered(pauses, workspace, type)) {
                c[2] += n;
            } else if (due > 0) {
                c[1] += due;
                Timestamp first = row.getTimestamp("oldest");
                // min over the group; a due one exists, so the group's earliest is due too
                String key = workspace + "/" + type;
                if (first != null && (oldest.get(key) == null || first.toInstant().isBefore(oldest.get(key)))) {
                    oldest.put(key, first.toInstant());
                }
            }
        }, scope == null ? new Object[] {at} : new Object[] {at, scope});

        if (!shown.isEmpty()) {
            List<String> ids = new ArrayList<>(shown);
            String placeholders = String.join(", ", Collections.nCopies(ids.size(), "?"));
            List<Object> args = new ArrayList<>(ids);
            args.add(Timestamp.from(today));
            jdbc.query("select workspace_id, email_type, status, count(*) as n from messages"
                    + " where workspace_id in (" + placeholders + ") and status in ('SENT', 'FAILED')"
                    + " and updated_at >= ? group by workspace_id, email_type, status", row -> {
                        long[] c = counts.computeIfAbsent(row.getString("workspace_id") + "/"
                                + row.getString("email_type"), k -> new long[7]);
                        c[row.getString("status").equals("SENT") ? 5 : 6] += row.getLong("n");
                    }, args.toArray());
        }

        List<WorkspaceSummary> result = new ArrayList<>();
        for (String workspace : shown) {
            List<TypeCounts> types = new ArrayList<>();
            for (String type : TYPES) {
                long[] c = counts.getOrDefault(workspace + "/" + type, new long[7]);
                types.add(new TypeCounts(type, c[0], c[1], c[2], c[3], c[4], c[5], c[6],
                        oldest.get(workspace + "/" + type), covered(pauses, workspace, type)));
            }
            List<PauseView> own = pauses.stream()
                    .filter(p -> p.workspace().equals(workspace) || p.workspace().equals(QueuePauses.EVERY)).toList();
            result.add(new WorkspaceSummary(workspace, workspaces.enabled(workspace), types, own));
        }
        return new SummaryView(now, today, result);
    }

    private static boolean covered(List<PauseView> pauses, String workspace, String type) {
        return pauses.stream().anyMatch(p -> (p.workspace().equals(workspace) || p.workspace().equals(QueuePauses.EVERY))
                && (p.emailType().equals(type) || p.emailType().equals(QueuePauses.EVERY)));
    }
}
