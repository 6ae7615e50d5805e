package com.mailrelay.accept;

import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.events.EventType;
import com.mailrelay.events.EventWriter;
import com.mailrelay.recipients.Suppressions;
import com.mailrelay.queue.GroupCommit;
import com.mailrelay.queue.MessageRecord;
import com.mailrelay.queue.MessageRepository;
import com.mailrelay.queue.MessageStatus;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.persistence.EntityManager;
import jakarta.persistence.PersistenceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The one accept path of both ingresses: stores a submission as QUEUED and returns only after
 * the commit, so that a 202 or 250 always means "durably stored". With {@code relay.queue: kafka}
 * the message is handed to the {@link MessageQueue} instead, which returns once the broker has it.
 */
@Component
public class MessageAcceptor {

    /** How long an Idempotency-Key keeps answering with the message it first created. */
    public static final Duration IDEMPOTENCY_WINDOW = Duration.ofHours(24);

    private static final Logger log = LoggerFactory.getLogger(MessageAcceptor.class);

    private final MessageRepository messages;
    private final EntityManager entityManager;
    private final TransactionTemplate transaction;
    private final ObjectMapper json;
    private final RelayProperties properties;
    private final Clock clock;
    private final MeterRegistry meters;
    private final Suppressions suppressions;
    private final EventWriter events;
    private final GroupCommit groupCommit;
    /** The Kafka queue, or null: messages are stored here, in the database queue. */
    private final MessageQueue queue;

    public MessageAcceptor(MessageRepository messages, EntityManager entityManager, TransactionTemplate transaction,
                           ObjectMapper json, RelayProperties properties, Clock clock, MeterRegistry meters,
                           Suppressions suppressions, EventWriter events, GroupCommit groupCommit,
                           ObjectProvider<MessageQueue> queue) {
        this.messages = messages;
        this.entityManager = entityManager;
        this.transaction = transaction;
        this.json = json;
        this.properties = properties;
        this.clock = clock;
        this.meters = meters;
        this.suppressions = suppressions;
        this.events = events;
        this.groupCommit = groupCommit;
        this.queue = queue.getIfAvailable();
    }

    public record Accepted(String id, MessageStatus status, boolean duplicate) {

        /** What the client is told: {@code {"id": ..., "status": "queued"}}. */
        public Map<String, String> view() {
            return Map.of("id", id, "status", status.name().toLowerCase(Locale.ROOT));
        }
    }

    public Accepted accept(Submission submission) {
        long limit = properties.maxMessageSize().toBytes();
        if (submission.rawMime().length > limit) {
            throw new MessageTooLargeException(submission.rawMime().length, limit);
        }
        if (queue != null) {
            Accepted accepted = queue.enqueue(submission);
            if (!accepted.duplicate()) {
                counted(submission);
            }
            return accepted;
        }
        try {
            // A submission with an Idempotency-Key commits alone: a race on its key must fail
            // only its own transaction.
            Accepted accepted = submission.idempotencyKey() == null
                    ? groupCommit.commit(() -> store(submission))
                    : transaction.execute(tx -> store(submission));
            if (!accepted.duplicate()) {
                counted(submission);
            }
            return accepted;
        } catch (DataIntegrityViolationException | PersistenceException raced) {
            // Two requests with the same Idempotency-Key committed at once; the winner's row now
            // exists, so answering again resolves to it (or to a 422 if the bodies differ).
            if (submission.idempotencyKey() == null) {
                throw raced;
            }
            return transaction.execute(tx -> store(submission));
        }
    }

    /** relay_accepted_total{workspace, type}: counted once the message is kept, like the 202/250. */
    private void counted(Submission submission) {
        meters.counter("relay.accepted", "workspace", submission.workspaceId(),
                "type", submission.type().id()).increment();
    }

    private Accepted store(Submission submission) {
        Instant now = clock.instant();
        if (submission.idempotencyKey() != null) {
            Optional<Accepted> earlier = earlierAcceptance(submission, now);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        // Suppressed recipients leave the envelope here (a reject event each); with none left the
        // message is stored REJECTED and never queued.
        Set<String> suppressed = suppressions.suppressed(submission.workspaceId(), submission.recipients());
        List<String> envelope = submission.recipients().stream()
                .filter(address -> !suppressed.contains(address.toLowerCase(Locale.ROOT))).toList();
        List<String> rejected = submission.recipients().stream()
                .filter(address -> suppressed.contains(address.toLowerCase(Locale.ROOT))).toList();
        MessageRecord record = new MessageRecord(submission.id(), submission.workspaceId(), submission.type().id(),
                submission.envelopeFrom(), toJson(envelope.isEmpty() ? rejected : envelope), submission.subject(),
                submission.rawMime(), toJson(submission.tags()), toJson(submission.metadata()),
                submission.campaignId(), submission.userId(), submission.idempotencyKey(),
                submission.requestHash(), now, envelope.isEmpty());
        entityManager.persist(record);
        if (!rejected.isEmpty()) {
            entityManager.flush();  // the events reference the message row
            events.write(submission.id(), submission.workspaceId(), EventType.REJECT, rejected, null,
                    "recipient is on the workspace's suppression list", 0, Timestamp.from(now));
        }
        MessageStatus status = envelope.isEmpty() ? MessageStatus.REJECTED : MessageStatus.QUEUED;
        log.info("accepted message {} workspace={} type={} recipients={} suppressed={} bytes={} status={}",
                submission.id(), submission.workspaceId(), submission.type().id(), envelope.size(), rejected.size(),
                submission.rawMime().length, status);
        return new Accepted(submission.id().toString(), status, false);
    }

    private Optional<Accepted> earlierAcceptance(Submission submission, Instant now) {
        Optional<MessageRecord> found = messages.findByWorkspaceIdAndIdempotencyKey(
                submission.workspaceId(), submission.idempotencyKey());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        MessageRecord earlier = found.get();
        if (earlier.getQueuedAt().isBefore(now.minus(IDEMPOTENCY_WINDOW))) {
            // The key has expired: the new request may use it.
            messages.releaseIdempotencyKey(earlier.getId());
            entityManager.flush();
            return Optional.empty();
        }
        if (!earlier.getRequestHash().equals(submission.requestHash())) {
            throw new IdempotencyConflictException(submission.idempotencyKey());
        }
        log.info("idempotent retry of message {} (key {})", earlier.getId(), submission.idempotencyKey());
        return Optional.of(new Accepted(earlier.getId().toString(), earlier.getStatus(), true));
    }

    private String toJson(Object value) {
        if (value == null) {
            return null;
        }
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }
}
