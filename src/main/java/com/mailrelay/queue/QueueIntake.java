package com.mailrelay.queue;

import java.io.IOException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.EmailType;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Priority;
import com.mailrelay.store.GroupCommit;
import com.mailrelay.store.Idempotency;
import com.mailrelay.store.MessageRecord;
import com.mailrelay.store.MessageRows;
import com.mailrelay.store.QueueStore;
import com.mailrelay.workspace.PriorityLevels;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Body;
import org.apache.camel.Exchange;
import org.apache.camel.ExchangeProperty;
import org.apache.camel.Header;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.CannotCreateTransactionException;

/**
 * Takes a record of the Kafka queue into the messages table, as this worker's first attempt:
 * status SENDING under a lease, exactly as if queue-poll had claimed it. The insert is the
 * hand-over: once it is committed the database schedule owns the message (retries, and a lease
 * that runs out if this worker dies), so a record seen again — after a crash or a rebalance, its
 * offset not yet committed — finds its row and is skipped, never sent a second time.
 * <p>
 * A record that cannot be taken for reasons of its own — unreadable, or an insert that fails on
 * its data (a NUL the database refuses, a field longer than its column) — must not block its
 * partition: queue-consume tries it again up to relay.queue-kafka.max-intake-attempts times
 * ({@link #exhausted}), then parks it verbatim in queue_dead_letters ({@link #park}) and moves on.
 * A database outage is not the record's fault: it never counts towards parking (and parking
 * needs the database anyway).
 * <p>
 * A record of a paused workspace and email type (queue_pauses) is taken all the same — its offset
 * is committed, the partition moves on — but written QUEUED instead of leased, and not delivered:
 * the database queue (queue-poll, which runs in Kafka mode too) delivers it once it is resumed.
 * A record whose send time is still ahead (a scheduled send) is taken the same way: QUEUED until
 * then, and the database queue delivers it when it comes due.
 */
@Component("queueIntake")
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class QueueIntake {

    private static final Logger log = LoggerFactory.getLogger(QueueIntake.class);

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final Clock clock;
    private final MessageRows rows;
    private final Idempotency idempotency;
    private final GroupCommit groupCommit;
    private final QueueStore store;
    private final RelayProperties.Worker worker;
    private final MeterRegistry meters;
    private final int maxIntakeAttempts;
    private final PriorityLevels priorities;
    /** Failed intakes per record (topic/partition@offset) on this instance, until it goes through or is parked. */
    private final Map<String, Integer> failures = new ConcurrentHashMap<>();

    private static final int MAX_TRACKED = 10_000;

    public QueueIntake(JdbcTemplate jdbc, ObjectMapper json, Clock clock, MessageRows rows, Idempotency idempotency,
                       GroupCommit groupCommit, QueueStore store, RelayProperties properties, MeterRegistry meters,
                       PriorityLevels priorities) {
        this.jdbc = jdbc;
        this.json = json;
        this.clock = clock;
        this.rows = rows;
        this.idempotency = idempotency;
        this.groupCommit = groupCommit;
        this.store = store;
        this.worker = properties.worker();
        this.meters = meters;
        this.maxIntakeAttempts = properties.queueKafka().maxIntakeAttempts();
        this.priorities = priorities;
    }

    /**
     * @return the message to deliver now, or null when there is nothing to send: the record was
     *         taken before, its Idempotency-Key belongs to an earlier message (the same request: a
     *         duplicate; another: recorded REJECTED), or every recipient is suppressed
     * @throws UnreadableRecordException when the record is not a message of this relay
     */
    public ClaimedMessage take(byte[] record) {
        TopicMessage message;
        try {
            message = json.readValue(record, TopicMessage.class);
        } catch (IOException e) {
            // Retrying cannot make it readable: parked at once.
            throw new UnreadableRecordException("not a message: " + e.getMessage());
        }
        if (!message.complete()) {
            throw new UnreadableRecordException("lacks a message's fields (id, workspaceId, emailType, envelopeFrom,"
                    + " recipients, rejected, rawMime, queuedAt)");
        }
        // Committed with concurrent intakes and outcomes; safe to run again alone (it looks before it writes).
        Outcome outcome = groupCommit.commit(() -> insert(message));
        meters.counter("relay.queue.intake", "outcome", outcome.tag).increment();
        switch (outcome) {
            case SEEN_AGAIN -> log.info("message {} is already taken (a record seen again): not sent again",
                    message.id());
            case DUPLICATE -> log.info("message {} repeats the request already taken under Idempotency-Key {}:"
                    + " not sent", message.id(), message.idempotencyKey());
            case KEY_CONFLICT -> log.info("message {} recorded REJECTED: its Idempotency-Key is in use by another"
                    + " message with a different request", message.id());
            case PAUSED -> log.info("message {} workspace={} type={} taken QUEUED, not delivered: delivery is paused"
                    + " (queue_pauses); the database queue delivers it once resumed", message.id(),
                    message.workspaceId(), message.emailType());
            case SCHEDULED -> log.info("message {} workspace={} type={} taken QUEUED until its send time {}: the"
                    + " database queue delivers it then", message.id(), message.workspaceId(), message.emailType(),
                    message.sendAt());
            case HELD -> log.info("message {} workspace={} taken QUEUED until {}: {}", message.id(),
                    message.workspaceId(), message.notBefore(), message.heldBy());
            default -> { }
        }
        if (outcome != Outcome.TAKEN || message.allRejected()) {
            return null;
        }
        return new ClaimedMessage(message.id(), message.workspaceId(), message.emailType(), message.envelopeFrom(),
                message.recipients(), message.rawMime(), 1, message.queuedAt(), message.providerOverride());
    }

    /**
     * Counts a failed intake of the record at topic/partition/offset: true once it has failed
     * max-intake-attempts times for reasons of its own (or at once when it is unreadable), and it
     * is to be parked; false to let the consumer read it again. Database outages are not counted.
     */
    public boolean exhausted(@Header(KafkaConstants.TOPIC) String topic,
                             @Header(KafkaConstants.PARTITION) Integer partition,
                             @Header(KafkaConstants.OFFSET) Long offset,
                             @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Throwable failure) {
        if (failure instanceof UnreadableRecordException) {
            return true;
        }
        if (outage(failure)) {
            meters.counter("relay.queue.intake", "outcome", "database_unavailable").increment();
            log.warn("record {}/{}@{} not taken, the database is unavailable ({}): reading it again", topic,
                    partition, offset, failure.toString());
            return false;
        }
        if (failures.size() > MAX_TRACKED) {
            failures.clear();   // records that failed and then went through: forget them
        }
        int attempts = failures.merge(recordId(topic, partition, offset), 1, Integer::sum);
        log.warn("record {}/{}@{} not taken (attempt {} of {}): {}", topic, partition, offset, attempts,
                maxIntakeAttempts, failure.toString());
        return attempts >= maxIntakeAttempts;
    }

    /**
     * Parks the record verbatim in queue_dead_letters with the reason it could not be taken; the
     * caller's offset is then committed and the partition moves on. Idempotent per record.
     */
    public void park(@Header(KafkaConstants.TOPIC) String topic, @Header(KafkaConstants.PARTITION) Integer partition,
                     @Header(KafkaConstants.OFFSET) Long offset, @Header(KafkaConstants.KEY) Object key,
                     @ExchangeProperty(Exchange.EXCEPTION_CAUGHT) Throwable failure, @Body byte[] record) {
        String id = recordId(topic, partition, offset);
        int attempts = failure instanceof UnreadableRecordException ? 1 : failures.getOrDefault(id, maxIntakeAttempts);
        String messageId = null;
        try {
            messageId = json.readTree(record).path("id").asText(null);
        } catch (IOException | RuntimeException unreadable) {
            // parked as it is
        }
        String reason = reason(failure);
        jdbc.update("""
                insert into queue_dead_letters (topic, kafka_partition, kafka_offset, record_key, message_id, reason,
                                                record_bytes, size_bytes, attempts, parked_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                on conflict do nothing""",
                topic, partition, offset, cut(key == null ? null : key.toString(), 255), cut(messageId, 64), reason,
                record, record.length, attempts, Timestamp.from(clock.instant()));
        failures.remove(id);
        meters.counter("relay.queue.intake", "outcome", "parked").increment();
        log.error("record {} (message {}, key {}) parked in queue_dead_letters after {} attempt(s): {}", id,
                messageId, key, attempts, reason);
    }

    private static String recordId(String topic, Integer partition, Long offset) {
        return topic + "/" + partition + "@" + offset;
    }

    /** The database could not be reached or did not answer: no fault of the record. */
    private static boolean outage(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            // (a group commit that did not answer in time: TimeoutException)
            if (cause instanceof DataAccessResourceFailureException || cause instanceof TransientDataAccessException
                    || cause instanceof CannotCreateTransactionException || cause instanceof SQLTransientException
                    || cause instanceof SQLRecoverableException || cause instanceof SQLNonTransientConnectionException
                    || cause instanceof TimeoutException) {
                return true;
            }
            if (cause.getCause() == cause) {
                break;
            }
        }
        return false;
    }

    /** The innermost message of the failure: the database's own words (names the column, no data). */
    private static String reason(Throwable failure) {
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String text = root == failure ? failure.toString() : failure.getClass().getSimpleName() + ": " + root;
        return cut(text, 2000);
    }

    private static String cut(String text, int length) {
        return text == null || text.length() <= length ? text : text.substring(0, length);
    }

    /** How a record's intake ended; the tag of relay_queue_intake_total. */
    enum Outcome {
        TAKEN("taken"), SEEN_AGAIN("seen_again"), DUPLICATE("duplicate"), KEY_CONFLICT("key_conflict"),
        /** Written QUEUED for the database queue: its workspace × type is paused. */
        PAUSED("paused"),
        /** Written QUEUED for the database queue: its send time is still ahead. */
        SCHEDULED("scheduled"),
        /** Written QUEUED for the database queue: a soft limit holds it until a later window. */
        HELD("held");

        final String tag;

        Outcome(String tag) {
            this.tag = tag;
        }
    }

    /** A record that is not a message of this relay: retrying cannot help. */
    static final class UnreadableRecordException extends RuntimeException {
        UnreadableRecordException(String message) {
            super(message);
        }
    }

    /**
     * Writes the record's row, unless it is there already (a record seen again) or its
     * Idempotency-Key belongs to another message of the workspace. A repeat of the same request is
     * dropped as a duplicate, as at accept; a different request under that key is recorded
     * REJECTED under its own id with a reject event, as the 422 it would have had at accept.
     */
    private Outcome insert(TopicMessage message) {
        Instant now = clock.instant();
        if (rows.exists(message.id())) {
            return Outcome.SEEN_AGAIN;
        }
        // As at accept, but as of when the message was accepted: a key older than the window is
        // free for it.
        idempotency.release(message.workspaceId(), message.idempotencyKey(), message.queuedAt());
        Optional<Idempotency.Earlier> earlier = idempotency.find(message.workspaceId(), message.idempotencyKey(),
                message.requestHash(), message.queuedAt());
        if (earlier.isPresent()) {
            return earlier.get().sameRequest() ? Outcome.DUPLICATE : keyConflict(message, earlier.get(), now);
        }
        boolean rejected = message.allRejected();
        // Read in the intake's own transaction: a pause committed before it is seen.
        boolean paused = !rejected && paused(message.workspaceId(), message.emailType());
        boolean scheduled = !rejected && message.sendAt() != null && message.sendAt().isAfter(now);
        // Held by a soft limit at accept: QUEUED and due when its window starts, as a database accept writes it.
        boolean held = !rejected && message.held() && message.notBefore().isAfter(now);
        MessageRecord row = row(message, rejected ? message.rejected() : message.recipients(),
                message.idempotencyKey(), rejected).scheduledFor(message.sendAt());
        // Paused: QUEUED and due since it was accepted, so that queue-poll takes it the moment it is resumed.
        // Scheduled: QUEUED and due at its send time (scheduledFor), when queue-poll takes it.
        // Held by a soft limit: QUEUED and due when its window starts (the later of the two wins).
        rows.insert(rejected || paused || scheduled || held
                ? row.updatedAt(now).notBefore(held ? message.notBefore() : null)
                : row.leased(store.instanceId(), now.plus(worker.lease()), now));
        if (!message.rejected().isEmpty()) {
            rows.rejected(message.id(), message.workspaceId(), message.rejected(), MessageRows.SUPPRESSED, now);
        }
        if (!rejected && message.held()) {
            // Its one deferral event, even when the window has begun by now (the consumer was behind).
            rows.deferred(message.id(), message.workspaceId(), message.recipients(), message.heldBy(), now);
        }
        return paused ? Outcome.PAUSED : held ? Outcome.HELD : scheduled ? Outcome.SCHEDULED : Outcome.TAKEN;
    }

    /** Whether delivery of this workspace x type is paused (queue_pauses, '*' for every one): a tiny table. */
    private boolean paused(String workspace, String emailType) {
        return !jdbc.queryForList("""
                select 1 from queue_pauses
                 where workspace_id in (?, '*') and email_type in (?, '*')
                 fetch first 1 rows only""", Integer.class, workspace, emailType).isEmpty();
    }

    private Outcome keyConflict(TopicMessage message, Idempotency.Earlier holder, Instant now) {
        String reason = "Idempotency-Key already used by message " + holder.message().id()
                + " with a different request";
        List<String> recipients = new ArrayList<>(message.recipients());
        recipients.addAll(message.rejected());
        rows.insert(row(message, recipients, null, true).refused(reason, now));
        rows.rejected(message.id(), message.workspaceId(), recipients, reason, now);
        return Outcome.KEY_CONFLICT;
    }

    private MessageRecord row(TopicMessage message, List<String> recipients, String idempotencyKey,
                              boolean rejected) {
        return rows.row(message.id(), message.workspaceId(), message.emailType(), message.envelopeFrom(),
                recipients, message.subject(), message.rawMime(), message.tags(), message.metadata(),
                message.campaignId(), message.userId(), idempotencyKey, message.requestHash(), message.queuedAt(),
                rejected, null).providerOverride(message.providerOverride())
                .priority(message.priority() != null ? message.priority()
                        : EmailType.fromId(message.emailType()).map(type -> priorities.level(message.workspaceId(), type,
                                null)).orElse(Priority.NORMAL.level()));
    }
}
