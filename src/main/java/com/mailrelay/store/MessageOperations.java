package com.mailrelay.store;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.Json;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The operator's actions on messages, each one short transaction that changes exactly the rows it
 * names and writes an event for each of them:
 * <ul>
 *   <li>cancel: QUEUED or DEFERRED → CANCELLED, never claimed again;</li>
 *   <li>retry now: a DEFERRED message due at once;</li>
 *   <li>replay: a dead letter (FAILED, not discarded, its MIME still stored) → QUEUED, due at once,
 *       attempts reset to 0 and its retry budget's age counted from now (requeued_at);</li>
 *   <li>discard: a dead letter marked discarded_at (it stays FAILED) and out of the dead-letter list.</li>
 * </ul>
 * Each change is one conditional UPDATE on the state it starts from: a message a worker claimed a
 * moment ago is SENDING, the condition no longer holds and nothing changes (the caller is told the
 * status it found). By filter, the rows are first selected and locked ({@code for update}) in the
 * same transaction, at most a bounded number, so the update and the events name the same rows.
 * <p>
 * Their events ({@link OperatorEvent}) belong to the message's history (GET /api/v1/messages/{id})
 * but are not Mandrill events: they are written with delivery_state {@value #HISTORY} (the webhook
 * outbox takes only PENDING events) and as already past the Kafka event stream (streamed_at set,
 * with stream_error saying why), so receivers are never sent event names they do not know.
 */
@Component
public class MessageOperations {

    /** The delivery_state of events that are history only: never posted to a webhook. */
    public static final String HISTORY = "HISTORY";
    static final String NOT_STREAMED = "an operator action: history only, not streamed";

    /** The operator's events, named apart from Mandrill's (message.EventType). */
    public enum OperatorEvent {
        CANCEL("operator.cancel"), RETRY("operator.retry"), REPLAY("operator.replay"), DISCARD("operator.discard");

        private final String id;

        OperatorEvent(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }
    }

    /**
     * What one action did: {@code changed} whether the row was changed; else {@code found} the
     * status it had (null: no such message in the scope) and {@code discarded} whether it was a
     * discarded dead letter, {@code mimeDropped} whether its MIME is gone.
     */
    public record Outcome(boolean changed, String found, boolean discarded, boolean mimeDropped, String workspace) {
    }

    /** What an action by filter did: the messages it changed, and whether more matched than it may change at once. */
    public record Bulk(int changed, boolean more, List<UUID> ids) {
    }

    private final JdbcTemplate jdbc;
    private final NamedParameterJdbcTemplate named;
    private final TransactionTemplate transaction;
    private final Clock clock;
    private final ClaimRanks ranks;

    public MessageOperations(JdbcTemplate jdbc, TransactionTemplate transaction, Clock clock, ClaimRanks ranks) {
        this.jdbc = jdbc;
        this.named = new NamedParameterJdbcTemplate(jdbc);
        this.transaction = transaction;
        this.clock = clock;
        this.ranks = ranks;
    }

    /** QUEUED or DEFERRED → CANCELLED. */
    public Outcome cancel(UUID id, String scope, String actor) {
        return one(id, scope, OperatorEvent.CANCEL, actor, Map.of(), CANCEL, "status in ('QUEUED', 'DEFERRED')");
    }

    /** A DEFERRED message due now (its attempts and age unchanged). */
    public Outcome retryNow(UUID id, String scope, String actor) {
        return one(id, scope, OperatorEvent.RETRY, actor, Map.of(), RETRY, "status = 'DEFERRED'");
    }

    /** A dead letter back to QUEUED, due now, attempts reset. */
    public Outcome replay(UUID id, String scope, String actor) {
        return one(id, scope, OperatorEvent.REPLAY, actor, Map.of(), REPLAY, DEAD_LETTER + " and " + HAS_MIME);
    }

    /** A dead letter discarded: FAILED still, out of the dead-letter list. */
    public Outcome discard(UUID id, String scope, String actor, String reason) {
        return one(id, scope, OperatorEvent.DISCARD, actor, Map.of("reason", reason), DISCARD, DEAD_LETTER);
    }

    /** The dead letters the filter names (at most {@code max}, oldest first) back to QUEUED. */
    public Bulk replay(MessageQueries.DeadLetterFilter filter, int max, String actor) {
        return bulk(filter, max, OperatorEvent.REPLAY, actor, Map.of(), REPLAY, " and octet_length(m.raw_mime) > 0");
    }

    /** The dead letters the filter names (at most {@code max}, oldest first) discarded. */
    public Bulk discard(MessageQueries.DeadLetterFilter filter, int max, String actor, String reason) {
        return bulk(filter, max, OperatorEvent.DISCARD, actor, Map.of("reason", reason), DISCARD, "");
    }

    private static final String CANCEL = "update messages set status = 'CANCELLED', next_attempt_at = null,"
            + " claim_rank = null, lease_owner = null, updated_at = :now";
    // Due now, ranked as a retry is (store/ClaimRanks): now less the level's head start.
    private static final String RETRY = "update messages set next_attempt_at = :now, claim_rank = " + ClaimRanks.NAMED
            + ", updated_at = :now";
    private static final String REPLAY = "update messages set status = 'QUEUED', attempts = 0, next_attempt_at = :now,"
            + " claim_rank = " + ClaimRanks.NAMED + ", requeued_at = :now, lease_owner = null, updated_at = :now";
    private static final String DISCARD = "update messages set discarded_at = :now, updated_at = :now";
    private static final String DEAD_LETTER = "status = 'FAILED' and discarded_at is null";
    /** A replay needs the bytes to send: retention may have dropped them (null, or emptied). */
    private static final String HAS_MIME = "octet_length(raw_mime) > 0";

    /**
     * One row: the update, conditional on the state it starts from, then its event; when nothing
     * changed, what was found instead.
     */
    private Outcome one(UUID id, String scope, OperatorEvent event, String actor, Map<String, Object> extra,
                        String update, String condition) {
        return transaction.execute(tx -> {
            Timestamp now = Timestamp.from(clock.instant());
            // Read first, for the event (the state it starts from) and the scope; the workspace never changes.
            List<Map<String, Object>> found = jdbc.queryForList("""
                    select workspace_id, status, attempts, last_error, discarded_at, octet_length(raw_mime) as mime
                      from messages where id = ?""" + (scope == null ? "" : " and workspace_id = ?"),
                    scope == null ? new Object[] {id} : new Object[] {id, scope});
            if (found.isEmpty()) {
                return new Outcome(false, null, false, false, null);
            }
            Map<String, Object> before = found.get(0);
            String workspace = (String) before.get("workspace_id");
            if (named.update(update + " where id = :id and " + condition, values(now, Map.of("id", id))) != 1) {
                Number mime = (Number) before.get("mime");
                // Read again: the row may have moved on since the read above (a worker claimed it).
                String status = jdbc.queryForObject("select status from messages where id = ?", String.class, id);
                return new Outcome(false, status, before.get("discarded_at") != null,
                        mime == null || mime.longValue() == 0, workspace);
            }
            List<Object[]> row = new ArrayList<>();
            row.add(new Object[] {id, workspace, event.id(), Json.write(detail(actor, before, extra)), now, HISTORY,
                    now, NOT_STREAMED});
            insertEvents(row);
            return new Outcome(true, (String) before.get("status"), false, false, workspace);
        });
    }

    private Bulk bulk(MessageQueries.DeadLetterFilter filter, int max, OperatorEvent event, String actor,
                      Map<String, Object> extra, String update, String replayable) {
        return transaction.execute(tx -> {
            Timestamp now = Timestamp.from(clock.instant());
            StringBuilder select = new StringBuilder("select m.id, m.workspace_id, m.status, m.attempts, m.last_error"
                    + " from messages m where m.status = 'FAILED' and m.discarded_at is null" + replayable);
            List<Object> args = new ArrayList<>();
            MessageQueries.deadLetterConditions(select, args, filter);
            select.append(" order by m.queued_at, m.id limit ? for update");
            args.add(max + 1);
            List<Map<String, Object>> rows = jdbc.queryForList(select.toString(), args.toArray());
            boolean more = rows.size() > max;
            List<Map<String, Object>> mine = more ? rows.subList(0, max) : rows;
            if (mine.isEmpty()) {
                return new Bulk(0, false, List.of());
            }
            List<UUID> ids = mine.stream().map(row -> (UUID) row.get("id")).toList();
            int changed = 0;
            // The rows are locked by this transaction: the update changes exactly them. In chunks, to
            // keep each statement's parameters well under the drivers' limits.
            for (int from = 0; from < ids.size(); from += 1000) {
                List<UUID> chunk = ids.subList(from, Math.min(ids.size(), from + 1000));
                changed += named.update(update + " where id in (:ids)", values(now, Map.of("ids", chunk)));
            }
            if (changed != ids.size()) {
                throw new IllegalStateException("changed " + changed + " of the " + ids.size() + " locked rows");
            }
            List<Object[]> events = new ArrayList<>(mine.size());
            for (Map<String, Object> row : mine) {
                events.add(new Object[] {row.get("id"), row.get("workspace_id"), event.id(),
                        Json.write(detail(actor, row, extra)), now, HISTORY, now, NOT_STREAMED});
            }
            insertEvents(events);
            return new Bulk(changed, more, ids);
        });
    }

    /** The parameters of an update at {@code now}: the rows' ranks if it makes them due, and {@code more}. */
    private Map<String, Object> values(Timestamp now, Map<String, Object> more) {
        Map<String, Object> values = new java.util.HashMap<>(ranks.named(now.toInstant()));
        values.put("now", now);
        values.putAll(more);
        return values;
    }

    private void insertEvents(List<Object[]> rows) {
        jdbc.batchUpdate("""
                insert into events (message_id, workspace_id, type, recipient, detail, created_at, delivery_state,
                                    streamed_at, stream_error)
                values (?, ?, ?, null, ?, ?, ?, ?, ?)""", rows);
    }

    /** The event's detail: who did it, and the state the message was in (what a replay started over from). */
    private static Map<String, Object> detail(String actor, Map<String, Object> before, Map<String, Object> extra) {
        Map<String, Object> detail = new LinkedHashMap<>();
        detail.put("by", actor);
        detail.put("previous_status", before.get("status"));
        detail.put("previous_attempts", before.get("attempts"));
        if (before.get("last_error") != null) {
            detail.put("previous_error", cut((String) before.get("last_error"), 500));
        }
        detail.putAll(extra);
        return detail;
    }

    private static String cut(String value, int max) {
        return value.length() <= max ? value : value.substring(0, max);
    }
}
