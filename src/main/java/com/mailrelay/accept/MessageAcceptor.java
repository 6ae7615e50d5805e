package com.mailrelay.accept;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.RecipientNames;
import com.mailrelay.message.Digests;
import com.mailrelay.message.IdempotencyConflictException;
import com.mailrelay.message.MergeData;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.MessageTooLargeException;
import com.mailrelay.message.Submission;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.EventType;
import com.mailrelay.store.EventWriter;
import com.mailrelay.store.Suppressions;
import com.mailrelay.store.Suppressions.Envelope;
import com.mailrelay.store.GroupCommit;
import com.mailrelay.ratelimit.RateLimits;
import com.mailrelay.store.MessageRecord;
import com.mailrelay.store.MessageRepository;
import com.mailrelay.store.MessageSummary;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.tracking.Personalizer;
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

    /** Personalised copies of one message may take this many times relay.max-message-size together. */
    static final int PERSONALISED_LIMIT_FACTOR = 10;

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
    private final RateLimits rateLimits;
    private final Personalizer personalizer;
    /** The Kafka queue, or null: messages are stored here, in the database queue. */
    private final MessageQueue queue;

    public MessageAcceptor(MessageRepository messages, EntityManager entityManager, TransactionTemplate transaction,
                           ObjectMapper json, RelayProperties properties, Clock clock, MeterRegistry meters,
                           Suppressions suppressions, EventWriter events, GroupCommit groupCommit,
                           RateLimits rateLimits, Personalizer personalizer, ObjectProvider<MessageQueue> queue) {
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
        this.rateLimits = rateLimits;
        this.personalizer = personalizer;
        this.queue = queue.getIfAvailable();
    }

    public Accepted accept(Submission submission) {
        long limit = properties.maxMessageSize().toBytes();
        if (submission.rawMime().length > limit) {
            throw new MessageTooLargeException(submission.rawMime().length, limit);
        }
        // Personalised copies (tracking, unsubscribe links, variables) are built before the
        // transaction: their MIME work must not hold up a commit other clients are waiting on.
        Personalised personalised = personalizer.applies(submission) ? personalise(submission) : null;
        if (queue != null) {
            Accepted accepted = enqueue(submission, personalised);
            if (!accepted.duplicate()) {
                counted(submission);
            }
            return accepted;
        }
        Supplier<Accepted> work = () -> store(submission, personalised);
        try {
            // A submission with an Idempotency-Key commits alone: a race on its key must fail
            // only its own transaction.
            Accepted accepted = submission.idempotencyKey() == null
                    ? groupCommit.commit(work)
                    : groupCommit.alone(work);
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
            return groupCommit.alone(work);
        }
    }

    private static List<String> concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }

    /** relay_accepted_total{workspace, type}: counted once the message is kept, like the 202/250. */
    private void counted(Submission submission) {
        meters.counter("relay.accepted", "workspace", submission.workspaceId(),
                "type", submission.type().id()).increment();
    }

    /**
     * Kafka mode: the rate limit is counted in a transaction of its own (only for a workspace
     * that has one), then the message, or each recipient's personalised copy, goes to the topic.
     */
    private Accepted enqueue(Submission submission, Personalised personalised) {
        if (rateLimits.limited(submission.workspaceId())) {
            transaction.executeWithoutResult(tx -> rateLimits.take(submission.workspaceId(), submission.userId(),
                    clock.instant()));
        }
        if (personalised == null) {
            return queue.enqueue(List.of(submission)).get(0);
        }
        // Each copy is a record of its own, so each carries an Idempotency-Key of its own (derived
        // from the client's). All of them go to the topic in one transaction: a failure part-way
        // leaves none of them to be delivered, and a retry finds either all or none taken.
        List<Submission> records = new ArrayList<>();
        for (int i = 0; i < personalised.copies().size(); i++) {
            Copy copy = personalised.copies().get(i);
            // The suppressed recipients ride along with the first copy; the queue turns them into reject events.
            List<String> recipients = i == 0
                    ? concat(List.of(copy.recipient()), personalised.envelope().rejected())
                    : List.of(copy.recipient());
            records.add(new Submission(copy.id(), submission.workspaceId(), submission.type(),
                    submission.envelopeFrom(), recipients, copy.content().subject(),
                    copy.content().mime(), submission.tags(), submission.metadata(), submission.campaignId(),
                    submission.userId(), copyKey(submission.idempotencyKey(), i), submission.requestHash(),
                    MergeData.NONE));
        }
        List<Accepted> answers = queue.enqueue(records);
        List<Accepted.Part> parts = new ArrayList<>();
        boolean allDuplicates = true;
        for (int i = 0; i < answers.size(); i++) {
            Accepted one = answers.get(i);
            allDuplicates &= one.duplicate();
            parts.add(new Accepted.Part(one.id(), personalised.copies().get(i).recipient(), one.status()));
        }
        return new Accepted(parts.get(0).id(), MessageStatus.QUEUED, allDuplicates, parts);
    }

    /** The first copy keeps the client's key; the others get one derived from it (fitting the column). */
    private static String copyKey(String key, int copy) {
        return key == null || copy == 0 ? key : Digests.sha256Hex(key + "#" + copy);
    }

    private Envelope envelope(Submission submission) {
        return suppressions.envelope(submission.workspaceId(), submission.recipients());
    }

    /** One recipient's row-to-be: its id and its own MIME. */
    private record Copy(UUID id, String recipient, Personalizer.Copy content) {
    }

    private record Personalised(Envelope envelope, List<Copy> copies) {
    }

    /**
     * The copies of every recipient not on the suppression list (read just before the
     * transaction, like any accept a moment earlier). The first keeps the submission's id.
     * Null when every recipient is suppressed: the message is then stored REJECTED as usual.
     */
    private Personalised personalise(Submission submission) {
        Instant now = clock.instant();
        Envelope envelope = envelope(submission);
        if (envelope.recipients().isEmpty()) {
            return null;
        }
        // Every copy is built in memory and stored: a large message to many recipients is refused
        // before any of that, rather than holding (size x recipients) bytes at once.
        long total = (long) submission.rawMime().length * envelope.recipients().size();
        long limit = PERSONALISED_LIMIT_FACTOR * properties.maxMessageSize().toBytes();
        if (total > limit) {
            throw new MessageTooLargeException("personalised copies for " + envelope.recipients().size()
                    + " recipients would take " + total + " bytes, over the limit of " + limit + " ("
                    + PERSONALISED_LIMIT_FACTOR + " x relay.max-message-size): send fewer recipients per message");
        }
        Map<String, RecipientNames> names = suppressions.names(submission.workspaceId(), envelope.recipients());
        List<Copy> copies = new ArrayList<>();
        for (String recipient : envelope.recipients()) {
            UUID id = copies.isEmpty() ? submission.id() : MessageIds.next();
            copies.add(new Copy(id, recipient, personalizer.personalize(submission, id, recipient,
                    names.getOrDefault(recipient.toLowerCase(Locale.ROOT), RecipientNames.NONE), now)));
        }
        return new Personalised(envelope, copies);
    }

    private Accepted store(Submission submission, Personalised personalised) {
        Instant now = clock.instant();
        if (submission.idempotencyKey() != null) {
            Optional<Accepted> earlier = earlierAcceptance(submission, now);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        rateLimits.take(submission.workspaceId(), submission.userId(), now);
        if (personalised != null) {
            return storePerRecipient(submission, personalised, now);
        }
        // Suppressed recipients leave the envelope here (a reject event each); with none left the
        // message is stored REJECTED and never queued.
        Envelope split = envelope(submission);
        List<String> envelope = split.recipients();
        List<String> rejected = split.rejected();
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

    /**
     * Tracking, unsubscribe links and variables differ per recipient, so each recipient gets a row
     * (and MIME) of its own, all in this one transaction. The first row keeps the submission's id
     * and its idempotency key; every row carries that id as batch_id.
     */
    private Accepted storePerRecipient(Submission submission, Personalised personalised, Instant now) {
        List<Accepted.Part> parts = new ArrayList<>();
        for (Copy copy : personalised.copies()) {
            boolean first = parts.isEmpty();
            entityManager.persist(new MessageRecord(copy.id(), submission.workspaceId(), submission.type().id(),
                    submission.envelopeFrom(), toJson(List.of(copy.recipient())), copy.content().subject(),
                    copy.content().mime(), toJson(submission.tags()), toJson(submission.metadata()),
                    submission.campaignId(), submission.userId(), first ? submission.idempotencyKey() : null,
                    first ? submission.requestHash() : null, now, false, submission.id()));
            parts.add(new Accepted.Part(copy.id().toString(), copy.recipient(), MessageStatus.QUEUED));
        }
        List<String> rejected = personalised.envelope().rejected();
        if (!rejected.isEmpty()) {
            entityManager.flush();  // the events reference the first row
            events.write(submission.id(), submission.workspaceId(), EventType.REJECT, rejected, null,
                    "recipient is on the workspace's suppression list", 0, Timestamp.from(now));
        }
        log.info("accepted message {} workspace={} type={} as {} personalised copies, suppressed={} status=QUEUED",
                submission.id(), submission.workspaceId(), submission.type().id(), parts.size(), rejected.size());
        return new Accepted(submission.id().toString(), MessageStatus.QUEUED, false, parts);
    }

    private Optional<Accepted> earlierAcceptance(Submission submission, Instant now) {
        // Summaries, not entities: a retry reads statuses, never the MIME of the message or its copies.
        Optional<MessageSummary> found = messages.findSummaryByIdempotencyKey(
                submission.workspaceId(), submission.idempotencyKey());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        MessageSummary earlier = found.get();
        if (earlier.queuedAt().isBefore(now.minus(IDEMPOTENCY_WINDOW))) {
            // The key has expired: the new request may use it.
            messages.releaseIdempotencyKey(earlier.id());
            entityManager.flush();
            return Optional.empty();
        }
        if (!earlier.requestHash().equals(submission.requestHash())) {
            throw new IdempotencyConflictException(submission.idempotencyKey());
        }
        log.info("idempotent retry of message {} (key {})", earlier.id(), submission.idempotencyKey());
        List<Accepted.Part> parts = earlier.batchId() == null ? List.of()
                : messages.findSummariesOfBatch(earlier.workspaceId(), earlier.batchId()).stream()
                        // version 7 ids: their text order is the order they were made in
                        .sorted(Comparator.comparing(row -> row.id().toString()))
                        .map(row -> new Accepted.Part(row.id().toString(), recipientOf(row), row.status()))
                        .toList();
        return Optional.of(new Accepted(earlier.id().toString(), earlier.status(), true, parts));
    }

    private String recipientOf(MessageSummary row) {
        try {
            List<String> recipients = json.readValue(row.recipients(), new TypeReference<List<String>>() { });
            return recipients.isEmpty() ? null : recipients.get(0);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("recipients of message " + row.id() + " are not a JSON list", e);
        }
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
