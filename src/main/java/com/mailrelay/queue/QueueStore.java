package com.mailrelay.queue;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.accept.MessageIds;
import com.mailrelay.events.EventType;
import com.mailrelay.events.EventWriter;
import com.mailrelay.recipients.Suppressions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The queue's state transitions, each one short transaction. Claims use
 * {@code FOR UPDATE SKIP LOCKED} so that any number of workers, in any number of relay
 * instances, can share one database without taking the same message. Each outcome is written
 * together with its event rows (the outbox), and only if the worker still holds the lease.
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
    /** Names this relay instance in lease_owner: host, process id and a random suffix. */
    private final String instanceId = InstanceId.get();

    public QueueStore(JdbcTemplate jdbc, TransactionTemplate transaction, ObjectMapper json, Clock clock,
                      EventWriter events, Suppressions suppressions, GroupCommit groupCommit) {
        this.jdbc = jdbc;
        this.named = new NamedParameterJdbcTemplate(jdbc);
        this.transaction = transaction;
        this.json = json;
        this.clock = clock;
        this.events = events;
        this.suppressions = suppressions;
        this.groupCommit = groupCommit;
    }

    /** This relay instance, as lease_owner names it. */
    public String instanceId() {
        return instanceId;
    }

    /** Leases up to {@code limit} due messages (QUEUED, DEFERRED whose time has come, or SENDING whose lease ran out). */
    public List<ClaimedMessage> claim(int limit, Duration lease) {
        if (limit <= 0) {
            return List.of();
        }
        return transaction.execute(tx -> {
            Instant now = clock.instant();
            List<ClaimedMessage> claimed = jdbc.query("""
                    select id, workspace_id, email_type, from_addr, recipients, raw_mime, attempts, queued_at
                      from messages
                     where next_attempt_at <= ?
                     order by next_attempt_at
                     limit ?
                       for update skip locked""", this::claimedMessage, Timestamp.from(now), limit);
            if (!claimed.isEmpty()) {
                named.update("""
                        update messages
                           set status = 'SENDING', attempts = attempts + 1, next_attempt_at = :leaseUntil,
                               lease_owner = :owner, updated_at = :now
                         where id in (:ids)""", Map.of(
                        "leaseUntil", Timestamp.from(now.plus(lease)),
                        "now", Timestamp.from(now),
                        "owner", instanceId,
                        "ids", claimed.stream().map(ClaimedMessage::id).toList()));
            }
            return claimed;
        });
    }

    /**
     * Records a delivery. After a partial one, the refused recipients get a hard bounce (and are
     * suppressed) and the put-off ones continue as a new DEFERRED message of their own, due at
     * {@code unsentRetryAt} — all in the same transaction.
     */
    public boolean markSent(ClaimedMessage message, String providerId, String reply, String providerMessageId,
                            List<String> refused, List<String> unsent, Instant unsentRetryAt) {
        List<String> delivered = message.recipients().stream()
                .filter(r -> !refused.contains(r) && !unsent.contains(r)).toList();
        return transition(message, EventType.SEND, delivered, providerId, reply, """
                update messages
                   set status = 'SENT', next_attempt_at = null, sent_at = ?, updated_at = ?,
                       provider_id = ?, provider_message_id = ?, last_error = ?
                 where id = ? and status = 'SENDING' and attempts = ?""",
                now -> new Object[] {now, now, providerId, providerMessageId, reply, message.id(), message.attempt()},
                now -> {
                    if (!refused.isEmpty()) {
                        events.write(message.id(), message.workspaceId(), EventType.HARD_BOUNCE, refused, providerId,
                                "refused by the upstream", message.attempt(), now);
                        refused.forEach(address -> suppressions.bounced(message.workspaceId(), address,
                                "refused by " + providerId));
                    }
                    if (!unsent.isEmpty()) {
                        continueFor(message, unsent, providerId, unsentRetryAt, now);
                    }
                });
    }

    /** A copy of the message for the recipients still to be tried, keeping the original's age. */
    private void continueFor(ClaimedMessage message, List<String> recipients, String providerId, Instant retryAt,
                             Timestamp now) {
        UUID id = MessageIds.next();
        jdbc.update("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                                      tags, metadata, campaign_id, user_id, status, attempts, next_attempt_at,
                                      queued_at, updated_at)
                select ?, workspace_id, email_type, from_addr, ?, subject, raw_mime, size_bytes, tags, metadata,
                       campaign_id, user_id, 'DEFERRED', 0, ?, queued_at, ?
                  from messages where id = ?""", id, toJson(recipients), Timestamp.from(retryAt), now, message.id());
        events.write(id, message.workspaceId(), EventType.DEFERRAL, recipients, providerId,
                "put off by the upstream; continues message " + message.id(), 0, now);
        log.info("message {}: {} recipient(s) put off by {} continue as message {}", message.id(), recipients.size(),
                providerId, id);
    }

    private String toJson(List<String> recipients) {
        try {
            return json.writeValueAsString(recipients);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public boolean markDeferred(ClaimedMessage message, String providerId, String reason, Instant retryAt) {
        return transition(message, EventType.DEFERRAL, message.recipients(), providerId, reason, """
                update messages
                   set status = 'DEFERRED', next_attempt_at = ?, updated_at = ?, provider_id = ?, last_error = ?
                 where id = ? and status = 'SENDING' and attempts = ?""",
                now -> new Object[] {Timestamp.from(retryAt), now, providerId, reason, message.id(), message.attempt()},
                now -> { });
    }

    /**
     * @param suppress recipients to put on the workspace's suppression list with the same commit
     *                 (those a hard bounce named)
     */
    public boolean markFailed(ClaimedMessage message, EventType event, String providerId, String reason,
                              List<String> suppress) {
        return transition(message, event, message.recipients(), providerId, reason, """
                update messages
                   set status = 'FAILED', next_attempt_at = null, updated_at = ?, provider_id = ?, last_error = ?
                 where id = ? and status = 'SENDING' and attempts = ?""",
                now -> new Object[] {now, providerId, reason, message.id(), message.attempt()},
                now -> suppress.forEach(address -> suppressions.bounced(message.workspaceId(), address, reason)));
    }

    private boolean transition(ClaimedMessage message, EventType event, List<String> recipients, String providerId,
                               String detail, String update, Function<Timestamp, Object[]> arguments,
                               Consumer<Timestamp> afterwards) {
        // Committed together with concurrent accepts and outcomes; safe to run again on its own
        // if its batch fails (the update is guarded, and a rollback undoes the rest).
        Boolean applied = groupCommit.commit(() -> {
            Timestamp now = Timestamp.from(clock.instant());
            if (jdbc.update(update, arguments.apply(now)) != 1) {
                return false;
            }
            events.write(message.id(), message.workspaceId(), event, recipients, providerId, detail,
                    message.attempt(), now);
            afterwards.accept(now);
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

    private ClaimedMessage claimedMessage(ResultSet row, int rowNum) throws SQLException {
        try {
            return new ClaimedMessage(row.getObject("id", UUID.class), row.getString("workspace_id"),
                    row.getString("email_type"), row.getString("from_addr"),
                    json.readValue(row.getString("recipients"), STRING_LIST), row.getBytes("raw_mime"),
                    row.getInt("attempts") + 1, row.getTimestamp("queued_at").toInstant());
        } catch (JsonProcessingException e) {
            throw new SQLException("recipients of message " + row.getString("id") + " are not a JSON list", e);
        }
    }
}
