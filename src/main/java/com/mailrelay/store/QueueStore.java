package com.mailrelay.store;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.DeliveryAttempt;
import com.mailrelay.message.EventType;
import com.mailrelay.message.Json;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.MessageStatus;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceUtils;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The queue's state transitions, each one short transaction. Claims use
 * {@code FOR UPDATE SKIP LOCKED} so that any number of workers, in any number of relay
 * instances, can share one database without taking the same message. Each outcome is written
 * together with its event rows (the outbox), and only if the worker still holds the lease.
 *
 * <p>The outcome itself (the status column) never depends on its bookkeeping: the event rows,
 * suppressions and the continuation of put-off recipients are written under a savepoint, and if
 * they fail, the status is committed without them (logged, and counted in
 * {@code relay_outcome_bookkeeping_failures_total}). A message sent once is recorded SENT even when
 * its events cannot be stored — it is not sent again every lease period. Claims enforce
 * {@code max-attempts} and {@code max-age} too, so that a message whose outcome was never
 * recorded (the relay died, the database was down) is not retried without end either.
 */
@Component
public class QueueStore {

    private static final Logger log = LoggerFactory.getLogger(QueueStore.class);
    private static final TypeReference<List<String>> STRING_LIST = new TypeReference<>() { };

    private final JdbcTemplate jdbc;
    private final NamedParameterJdbcTemplate named;
    private final TransactionTemplate transaction;
    private final ObjectMapper json;
    private final Clock clock;
    private final EventWriter events;
    private final Suppressions suppressions;
    private final GroupCommit groupCommit;
    private final AttemptRows attemptRows;
    private final RelayProperties.Retry retry;
    private final MeterRegistry meters;
    private final ClaimRanks ranks;
    /** Names this relay instance in lease_owner: host, process id and a random suffix. */
    private final String instanceId = InstanceId.get();

    public QueueStore(JdbcTemplate jdbc, TransactionTemplate transaction, ObjectMapper json, Clock clock,
                      EventWriter events, Suppressions suppressions, GroupCommit groupCommit,
                      AttemptRows attemptRows, RelayProperties properties, MeterRegistry meters,
                      ClaimRanks ranks) {
        this.jdbc = jdbc;
        this.named = new NamedParameterJdbcTemplate(jdbc);
        this.transaction = transaction;
        this.json = json;
        this.clock = clock;
        this.events = events;
        this.suppressions = suppressions;
        this.groupCommit = groupCommit;
        this.attemptRows = attemptRows;
        this.retry = properties.retry();
        this.meters = meters;
        this.ranks = ranks;
    }

    /** This relay instance, as lease_owner names it. */
    public String instanceId() {
        return instanceId;
    }

    /**
     * The claim's query (see {@link #claim}); its parameters are the time it is due by and the most
     * rows to take. Public so that the benchmarks explain the query the relay sends.
     */
    public static final String CLAIM = """
            select id, workspace_id, email_type, from_addr, recipients, raw_mime, attempts,
                   coalesce(requeued_at, case when send_at > queued_at then send_at else queued_at end)
                       as queued_at, status, provider_override, priority, claim_rank
              from messages m
             where claim_rank is not null
               and next_attempt_at <= ?
               and coalesce((select 1 from queue_pauses p
                              where p.workspace_id in (m.workspace_id, '*')
                                and p.email_type in (m.email_type, '*')
                              fetch first 1 rows only), 0) <> 1
             order by claim_rank
             limit ?
               for update skip locked""";

    /**
     * Leases up to {@code limit} due messages (QUEUED, DEFERRED whose time has come, or SENDING
     * whose lease ran out). A due message that may not be tried again — its attempts are used up
     * (max-attempts) or it is older than max-age — is dead-lettered here instead of being handed
     * out: FAILED with the reason and a soft_bounce event. That is what ends a message whose
     * outcome could never be recorded: its lease runs out, and it is not sent once more. Its age
     * counts from its replay, else from its send time when it was scheduled later than accepted
     * (a message scheduled days ahead is not "queued longer than max-age" at its first attempt),
     * else from its accept.
     *
     * <p>A message whose workspace and email type match a row of queue_pauses (queuectl/, '*' for
     * every one) is not due for the claim: it waits as it is (QUEUED, DEFERRED) and is claimed by
     * the first claim after its pause is deleted, on any instance. The pause is read in the claim's
     * own query (a lookup in a table of a few rows), so there is no cache to go stale and
     * a pause committed on one instance holds for the next claim of every instance. The scan of
     * messages_due walks past the paused due rows, so its cost grows with a paused backlog.
     *
     * <p>Due messages are taken in claim_rank order (store/ClaimRanks: by priority, fairly across
     * workspaces), walking the index messages_claim, which holds the due time beside the rank: no
     * sort, however many are due. It passes over the rows ranked before the ones it takes that
     * are not due yet (a retry or a scheduled send ranked within its head start, or before a
     * backlog spread ahead of the clock), and over the paused ones. Every row claimed is ranked
     * again at its lease's end, which is when it is due again if its worker dies.
     *
     * <p>The pause is tested as a scalar subquery, not {@code not exists}: PostgreSQL plans a
     * {@code not exists} as an anti-join, and with queue_pauses never analyzed (a table of a few
     * rows seldom is) it takes that join to leave about one row, and then reads and sorts every due
     * row instead of walking the index (seconds at a million queued; bench/RESULTS.md).
     */
    public List<ClaimedMessage> claim(int limit, Duration lease) {
        if (limit <= 0) {
            return List.of();
        }
        return transaction.execute(tx -> {
            Instant now = clock.instant();
            List<Due> due = jdbc.query(CLAIM, this::due, Timestamp.from(now), limit);
            Due latest = due.isEmpty() ? null : due.get(due.size() - 1);
            ranks.claimed(latest == null ? null : latest.rank(), latest == null ? 0 : latest.priority(),
                    due.size() == limit);
            List<ClaimedMessage> claimed = new ArrayList<>(due.size());
            for (Due row : due) {
                String exhausted = exhausted(row, now);
                if (exhausted == null) {
                    claimed.add(row.message());
                } else {
                    deadLetterAtClaim(row, exhausted, Timestamp.from(now));
                }
            }
            if (!claimed.isEmpty()) {
                Map<String, Object> values = new java.util.HashMap<>(ranks.named(now.plus(lease)));
                values.putAll(Map.of(
                        "leaseUntil", Timestamp.from(now.plus(lease)),
                        "now", Timestamp.from(now),
                        "owner", instanceId,
                        "ids", claimed.stream().map(ClaimedMessage::id).toList()));
                named.update("""
                        update messages
                           set status = 'SENDING', attempts = attempts + 1, next_attempt_at = :leaseUntil,
                               claim_rank = %s, lease_owner = :owner, updated_at = :now
                         where id in (:ids)""".formatted(ClaimRanks.NAMED), values);
            }
            return claimed;
        });
    }

    /** A due row, the status it had when it was found, its level and its rank. */
    private record Due(ClaimedMessage message, String status, int priority, Instant rank) {
    }

    /** Why a due message may not be tried again, or null if it may. */
    private String exhausted(Due row, Instant now) {
        ClaimedMessage message = row.message();
        int attemptsMade = message.attempt() - 1;
        String lost = MessageStatus.SENDING.name().equals(row.status())
                ? "; the outcome of attempt " + attemptsMade + " was never recorded (its lease ran out)" : "";
        if (attemptsMade >= retry.maxAttempts()) {
            return "retries exhausted: " + attemptsMade + " of " + retry.maxAttempts() + " attempts made" + lost;
        }
        if (Duration.between(message.queuedAt(), now).compareTo(retry.maxAge()) >= 0) {
            return "retries exhausted: queued longer than max-age " + retry.maxAge() + lost;
        }
        return null;
    }

    private void deadLetterAtClaim(Due row, String reason, Timestamp now) {
        ClaimedMessage message = row.message();
        jdbc.update("""
                update messages set status = 'FAILED', next_attempt_at = null, claim_rank = null, updated_at = ?,
                       last_error = ?
                 where id = ?""", now, reason, message.id());
        bookkeeping(message, "soft_bounce", () -> events.write(message.id(), message.workspaceId(),
                EventType.SOFT_BOUNCE, message.recipients(), null, reason, message.attempt() - 1, now));
        count(message, "failed");
        log.warn("dead-lettered message {} at claim: {}", message.id(), reason);
    }

    /**
     * Gives back messages this instance claimed but never started (at shutdown): due again at
     * once, without the attempt the claim counted, and with no lease owner, so that another
     * instance takes them now instead of after the lease.
     *
     * @return how many were given back (a message whose lease was lost meanwhile is left alone)
     */
    public int release(List<ClaimedMessage> messages) {
        if (messages.isEmpty()) {
            return 0;
        }
        Instant at = clock.instant();
        Timestamp now = Timestamp.from(at);
        Object[] rank = ranks.positional(at);
        int[][] counts = transaction.execute(tx -> jdbc.batchUpdate("""
                update messages
                   set status = case when attempts <= 1 then 'QUEUED' else 'DEFERRED' end,
                       attempts = attempts - 1, next_attempt_at = ?, claim_rank = %s, lease_owner = null,
                       updated_at = ?
                 where id = ? and status = 'SENDING' and attempts = ? and lease_owner = ?""".formatted(
                        ClaimRanks.POSITIONAL), messages, 100,
                (statement, message) -> {
                    statement.setTimestamp(1, now);
                    for (int i = 0; i < rank.length; i++) {
                        statement.setTimestamp(2 + i, (Timestamp) rank[i]);
                    }
                    statement.setTimestamp(6, now);
                    statement.setObject(7, message.id());
                    statement.setInt(8, message.attempt());
                    statement.setString(9, instanceId);
                }));
        groupCommit.sync();
        int released = 0;
        for (int[] batch : counts) {
            for (int count : batch) {
                released += count > 0 ? 1 : 0;
            }
        }
        return released;
    }

    /**
     * Extends the leases of messages this instance is working on (sending, or waiting for a
     * worker) to {@code lease} from now; a lease another worker took over is not touched.
     *
     * <p>One statement, committed on its own, per message: a batch (or one statement over many
     * rows) would hold the lock of each row it updated while it waits for the next, and a group
     * commit recording the outcomes of two of these messages in the other order would then
     * deadlock with it. Holding one row lock at a time, renewal is never part of a lock cycle;
     * it runs every lease/3 for the few messages in flight.
     */
    public int renew(List<ClaimedMessage> messages, Duration lease) {
        if (messages.isEmpty()) {
            return 0;
        }
        Instant end = clock.instant().plus(lease);
        Timestamp until = Timestamp.from(end);
        Object[] rank = ranks.positional(end);
        int renewed = 0;
        for (ClaimedMessage message : messages) {
            renewed += jdbc.update("""
                    update messages set next_attempt_at = ?, claim_rank = %s
                     where id = ? and status = 'SENDING' and attempts = ? and lease_owner = ?""".formatted(
                            ClaimRanks.POSITIONAL),
                    until, rank[0], rank[1], rank[2], rank[3], message.id(), message.attempt(), instanceId) > 0 ? 1 : 0;
        }
        return renewed;
    }

    /**
     * Records a delivery. After a partial one, the refused recipients get a hard bounce (and are
     * suppressed) and the put-off ones continue as a new DEFERRED message of their own, due at
     * {@code unsentRetryAt} — all in the same transaction.
     */
    public boolean markSent(ClaimedMessage message, String providerId, String reply, String providerMessageId,
                            List<String> refused, List<String> unsent, Instant unsentRetryAt) {
        return markSent(message, providerId, reply, providerMessageId, refused, unsent, unsentRetryAt, List.of());
    }

    /** The same, with the providers tried in the attempt (delivery_attempts), written in its transaction. */
    public boolean markSent(ClaimedMessage message, String providerId, String reply, String providerMessageId,
                            List<String> refused, List<String> unsent, Instant unsentRetryAt,
                            List<DeliveryAttempt> attempts) {
        List<String> delivered = message.recipients().stream()
                .filter(r -> !refused.contains(r) && !unsent.contains(r)).toList();
        return transition(message, attempts, EventType.SEND, delivered, providerId, reply, """
                update messages
                   set status = 'SENT', next_attempt_at = null, claim_rank = null, sent_at = ?, updated_at = ?,
                       provider_id = ?, provider_message_id = ?, last_error = ?
                 where id = ? and status = 'SENDING' and attempts = ?""",
                now -> new Object[] {now, now, clip(providerId, 128), clip(providerMessageId, 255), reply,
                        message.id(), message.attempt()},
                """
                update messages set status = 'SENT', next_attempt_at = null, claim_rank = null, sent_at = ?,
                       updated_at = ?
                 where id = ? and status = 'SENDING' and attempts = ?""",
                now -> new Object[] {now, now, message.id(), message.attempt()},
                now -> {
                    if (!refused.isEmpty()) {
                        events.write(message.id(), message.workspaceId(), EventType.HARD_BOUNCE, refused, providerId,
                                "refused by the upstream", message.attempt(), now);
                        refused.forEach(address -> suppressions.bounced(message.workspaceId(), address,
                                "refused by " + providerId));
                    }
                    if (!unsent.isEmpty()) {
                        continueFor(message, unsent, providerId, unsentRetryAt, now, true);
                    }
                },
                // Without its events, the put-off recipients must still get their continuation.
                unsent.isEmpty() ? null : now -> continueFor(message, unsent, providerId, unsentRetryAt, now, false));
    }

    /** A copy of the message for the recipients still to be tried, keeping the original's age. */
    private void continueFor(ClaimedMessage message, List<String> recipients, String providerId, Instant retryAt,
                             Timestamp now, boolean withEvent) {
        UUID id = MessageIds.next();
        Object[] r = ranks.positional(retryAt);
        jdbc.update("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                                      tags, metadata, campaign_id, user_id, status, attempts, next_attempt_at,
                                      queued_at, updated_at, provider_override, send_at, priority, claim_rank)
                select ?, workspace_id, email_type, from_addr, ?, subject, raw_mime, size_bytes, tags, metadata,
                       campaign_id, user_id, 'DEFERRED', 0, ?, queued_at, ?, provider_override, send_at, priority, %s
                  from messages where id = ?""".formatted(ClaimRanks.POSITIONAL), id, Json.write(recipients),
                Timestamp.from(retryAt), now, r[0], r[1], r[2], r[3], message.id());
        if (withEvent) {
            events.write(id, message.workspaceId(), EventType.DEFERRAL, recipients, providerId,
                    "put off by the upstream; continues message " + message.id(), 0, now);
        }
        log.info("message {}: {} recipient(s) put off by {} continue as message {}", message.id(), recipients.size(),
                providerId, id);
    }

    /**
     * @param attemptCounts false when the failure said nothing about the message (a provider at its
     *                      quota, the relay's provider credentials refused): the attempt the claim
     *                      counted is given back, so that waiting for an operator or a quota window
     *                      never exhausts the message's retries
     */
    public boolean markDeferred(ClaimedMessage message, String providerId, String reason, Instant retryAt,
                                boolean attemptCounts) {
        return markDeferred(message, providerId, reason, retryAt, attemptCounts, List.of());
    }

    /** The same, with the providers tried in the attempt (delivery_attempts), written in its transaction. */
    public boolean markDeferred(ClaimedMessage message, String providerId, String reason, Instant retryAt,
                                boolean attemptCounts, List<DeliveryAttempt> tries) {
        String attempts = attemptCounts ? "attempts" : "attempts - 1";
        // Ranked at its new due time less its level's head start (store/ClaimRanks).
        Object[] r = ranks.positional(retryAt);
        return transition(message, tries, EventType.DEFERRAL, message.recipients(), providerId, reason, """
                update messages
                   set status = 'DEFERRED', attempts = %s, next_attempt_at = ?, claim_rank = %s, updated_at = ?,
                       provider_id = ?, last_error = ?
                 where id = ? and status = 'SENDING' and attempts = ?""".formatted(attempts, ClaimRanks.POSITIONAL),
                now -> new Object[] {Timestamp.from(retryAt), r[0], r[1], r[2], r[3], now, clip(providerId, 128),
                        reason, message.id(), message.attempt()},
                """
                update messages set status = 'DEFERRED', attempts = %s, next_attempt_at = ?, claim_rank = %s,
                       updated_at = ?
                 where id = ? and status = 'SENDING' and attempts = ?""".formatted(attempts, ClaimRanks.POSITIONAL),
                now -> new Object[] {Timestamp.from(retryAt), r[0], r[1], r[2], r[3], now, message.id(),
                        message.attempt()},
                now -> { }, null);
    }

    /**
     * @param suppress recipients to put on the workspace's suppression list with the same commit
     *                 (those a hard bounce named)
     */
    public boolean markFailed(ClaimedMessage message, EventType event, String providerId, String reason,
                              List<String> suppress) {
        return markFailed(message, event, providerId, reason, suppress, List.of());
    }

    /** The same, with the providers tried in the attempt (delivery_attempts), written in its transaction. */
    public boolean markFailed(ClaimedMessage message, EventType event, String providerId, String reason,
                              List<String> suppress, List<DeliveryAttempt> attempts) {
        return transition(message, attempts, event, message.recipients(), providerId, reason, """
                update messages
                   set status = 'FAILED', next_attempt_at = null, claim_rank = null, updated_at = ?, provider_id = ?,
                       last_error = ?
                 where id = ? and status = 'SENDING' and attempts = ?""",
                now -> new Object[] {now, clip(providerId, 128), reason, message.id(), message.attempt()},
                """
                update messages set status = 'FAILED', next_attempt_at = null, claim_rank = null, updated_at = ?
                 where id = ? and status = 'SENDING' and attempts = ?""",
                now -> new Object[] {now, message.id(), message.attempt()},
                now -> suppress.forEach(address -> suppressions.bounced(message.workspaceId(), address, reason)),
                null);
    }

    /**
     * One outcome, in the order that keeps it safe: the status first (guarded by the lease; a
     * reduced form of it if the full one fails, e.g. on an over-long provider reply), then the
     * bookkeeping — events and {@code afterwards} — under a savepoint, and the attempt's tries
     * under another. If the bookkeeping fails
     * it is undone alone, {@code essential} (what must not be lost with it) is tried on its own,
     * and the status is committed all the same.
     */
    private boolean transition(ClaimedMessage message, List<DeliveryAttempt> attempts, EventType event,
                               List<String> recipients, String providerId,
                               String detail, String update, Function<Timestamp, Object[]> arguments,
                               String bareUpdate, Function<Timestamp, Object[]> bareArguments,
                               Consumer<Timestamp> afterwards, Consumer<Timestamp> essential) {
        // Committed together with concurrent accepts and outcomes; safe to run again on its own
        // if its batch fails (the update is guarded, and a rollback undoes the rest).
        Boolean applied = groupCommit.commit(() -> {
            Timestamp now = Timestamp.from(clock.instant());
            if (!updateStatus(message, event, update, arguments.apply(now), bareUpdate, bareArguments.apply(now))) {
                return false;
            }
            boolean recorded = bookkeeping(message, event.id(), () -> {
                events.write(message.id(), message.workspaceId(), event, recipients, providerId, detail,
                        message.attempt(), now);
                afterwards.accept(now);
            });
            if (!recorded && essential != null) {
                bookkeeping(message, event.id() + " continuation", () -> essential.accept(now));
            }
            // What each provider said: history, under a savepoint of its own so that it never costs
            // the events (or the status) if it cannot be written.
            if (!attempts.isEmpty()) {
                bookkeeping(message, "attempts", () -> attemptRows.write(message, attempts));
            }
            return true;
        });
        if (!Boolean.TRUE.equals(applied)) {
            // Another worker re-claimed the message after this worker's lease ran out; its outcome wins.
            log.warn("outcome {} of message {} attempt {} ignored: the lease is no longer held",
                    event.id(), message.id(), message.attempt());
            return false;
        }
        return true;
    }

    /** The guarded status update; if the full one fails for its values, the bare status alone. */
    private boolean updateStatus(ClaimedMessage message, EventType event, String update, Object[] arguments,
                                 String bareUpdate, Object[] bareArguments) {
        try {
            return Boolean.TRUE.equals(underSavepoint(() -> jdbc.update(update, arguments) == 1));
        } catch (RuntimeException e) {
            log.error("outcome {} of message {}: the full status update failed ({}); recording the status alone",
                    event.id(), message.id(), e.toString());
            meters.counter("relay.outcome.bookkeeping.failures", "part", "status-details").increment();
            return jdbc.update(bareUpdate, bareArguments) == 1;
        }
    }

    /** Runs {@code work} under a savepoint; a failure is undone, logged and counted, never thrown. */
    private boolean bookkeeping(ClaimedMessage message, String part, Runnable work) {
        try {
            underSavepoint(() -> {
                work.run();
                return null;
            });
            return true;
        } catch (RuntimeException e) {
            log.error("message {}: its {} bookkeeping (events, suppressions) could not be written and is left out;"
                    + " the outcome is recorded without it", message.id(), part, e);
            meters.counter("relay.outcome.bookkeeping.failures", "part", part).increment();
            return false;
        }
    }

    /**
     * Runs {@code work} under a JDBC savepoint of the current transaction's connection (the JPA
     * transaction manager offers none of its own): on failure only {@code work} is undone — on
     * PostgreSQL the transaction would otherwise be aborted for everything that follows.
     */
    private <T> T underSavepoint(Supplier<T> work) {
        Connection connection = DataSourceUtils.getConnection(jdbc.getDataSource());
        Savepoint savepoint;
        try {
            savepoint = connection.setSavepoint();
        } catch (SQLException e) {
            throw new IllegalStateException("could not set a savepoint", e);
        }
        try {
            T result = work.get();
            connection.releaseSavepoint(savepoint);
            return result;
        } catch (RuntimeException | SQLException e) {
            try {
                connection.rollback(savepoint);
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e instanceof RuntimeException runtime ? runtime : new IllegalStateException(e);
        }
    }

    private void count(ClaimedMessage message, String outcome) {
        meters.counter("relay.deliveries", "outcome", outcome, "workspace", message.workspaceId(),
                "type", message.emailType(), "provider", "none").increment();
    }

    private static String clip(String value, int length) {
        return value == null || value.length() <= length ? value : value.substring(0, length);
    }

    private Due due(ResultSet row, int rowNum) throws SQLException {
        return new Due(claimedMessage(row, rowNum), row.getString("status"), row.getInt("priority"),
                row.getTimestamp("claim_rank").toInstant());
    }

    private ClaimedMessage claimedMessage(ResultSet row, int rowNum) throws SQLException {
        try {
            return new ClaimedMessage(row.getObject("id", UUID.class), row.getString("workspace_id"),
                    row.getString("email_type"), row.getString("from_addr"),
                    json.readValue(row.getString("recipients"), STRING_LIST), row.getBytes("raw_mime"),
                    row.getInt("attempts") + 1, row.getTimestamp("queued_at").toInstant(),
                    row.getString("provider_override"));
        } catch (JsonProcessingException e) {
            throw new SQLException("recipients of message " + row.getString("id") + " are not a JSON list", e);
        }
    }
}
