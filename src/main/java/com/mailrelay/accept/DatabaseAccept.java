package com.mailrelay.accept;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.LimitHold;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Refusal;
import com.mailrelay.message.Submission;
import com.mailrelay.ratelimit.RateLimits;
import com.mailrelay.store.GroupCommit;
import com.mailrelay.store.Idempotency;
import com.mailrelay.store.MessageRecord;
import com.mailrelay.store.MessageRows;
import com.mailrelay.store.Suppressions;
import com.mailrelay.store.Suppressions.Envelope;
import com.mailrelay.workspace.PriorityLevels;
import jakarta.persistence.PersistenceException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.stereotype.Component;

/**
 * Accept into the database queue: the message is stored QUEUED and the caller answered only after
 * the commit, so that a 202 or 250 always means "durably stored". The Idempotency-Key check, the
 * rate limit, the suppression split, the row(s) and their reject events are one unit of work,
 * committed together with concurrent accepts and outcomes (GroupCommit): a refused rate limit
 * or a key conflict leaves nothing behind, and a count is taken exactly when a row is stored.
 */
@Component
public class DatabaseAccept {

    private static final Logger log = LoggerFactory.getLogger(DatabaseAccept.class);

    private final GroupCommit groupCommit;
    private final Idempotency idempotency;
    private final RateLimits rateLimits;
    private final Suppressions suppressions;
    private final MessageRows rows;
    private final Clock clock;
    private final PriorityLevels priorities;

    public DatabaseAccept(GroupCommit groupCommit, Idempotency idempotency, RateLimits rateLimits,
                          Suppressions suppressions, MessageRows rows, Clock clock, PriorityLevels priorities) {
        this.groupCommit = groupCommit;
        this.idempotency = idempotency;
        this.rateLimits = rateLimits;
        this.suppressions = suppressions;
        this.rows = rows;
        this.clock = clock;
        this.priorities = priorities;
    }

    /** Stores the message (or its copies) and returns once that is committed. */
    public Accepted store(Acceptance acceptance) {
        Submission submission = acceptance.submission();
        Supplier<Accepted> work = () -> unit(acceptance);
        try {
            // A submission with an Idempotency-Key commits alone: a race on its key must fail
            // only its own transaction.
            return submission.idempotencyKey() == null ? groupCommit.commit(work) : groupCommit.alone(work);
        } catch (DataIntegrityViolationException | PersistenceException raced) {
            // Two requests with the same Idempotency-Key committed at once; the winner's row now
            // exists, so answering again resolves to it (or to a 422 if the bodies differ).
            if (submission.idempotencyKey() == null) {
                throw raced;
            }
            return groupCommit.alone(work);
        }
    }

    /** Tries of a batch whose commit lost a race on an item's Idempotency-Key (each retry resolves the raced keys). */
    static final int BATCH_ATTEMPTS = 3;

    /**
     * Stores the accepted items of a batch request (POST /api/v1/messages/batch) in ONE
     * transaction (GroupCommit#all) and returns once it is committed: each item's answer in
     * the items' order, an {@link Accepted} or the {@link Refusal} that is its own (an item
     * refused before, a rate limit, an Idempotency-Key used with another body). Each item is
     * the same unit as a single message's, so its key, rate count, suppression split and rows
     * are checked and written exactly as {@link #store} does, and a refused item writes nothing.
     * <p>
     * A race on a key (another request storing the same key between this transaction's look-up
     * and its commit) fails the commit of the whole batch on the unique key; the batch is then
     * run again, all of it, in a new transaction, where that item finds the winner's message and
     * is answered with it (or 422): the other items are stored, not lost, and still in one commit.
     * A retry rather than a savepoint per item, because the rows are JPA entities flushed at the
     * commit, where a savepoint no longer helps; a race is rare and costs one re-run.
     *
     * @param items each an {@link Acceptance} to store or a {@link Refusal} already its answer
     */
    public List<Object> storeAll(List<?> items) {
        List<Supplier<Object>> units = new ArrayList<>();
        boolean keyed = false;
        for (Object item : items) {
            if (item instanceof Acceptance acceptance) {
                keyed |= acceptance.submission().idempotencyKey() != null;
                units.add(() -> {
                    // The items' keys are their own (BatchRequests refuses a key twice in a batch),
                    // so no look-up needs the rows of the items before it: all are written at the commit.
                    rows.writeAtCommit();
                    try {
                        return unit(acceptance);
                    } catch (Refusal refused) {
                        return refused;     // wrote nothing (or undid it): the other items go on
                    }
                });
            }
        }
        List<Object> stored = null;
        for (int attempt = 1; stored == null; attempt++) {
            try {
                stored = groupCommit.all(units);
            } catch (DataIntegrityViolationException | PersistenceException raced) {
                if (!keyed || attempt == BATCH_ATTEMPTS) {
                    throw raced;
                }
                log.info("a batch of {} messages raced another request on an Idempotency-Key ({}); storing it again",
                        units.size(), raced.toString());
            }
        }
        List<Object> answers = new ArrayList<>(items.size());
        int next = 0;
        for (Object item : items) {
            answers.add(item instanceof Acceptance ? stored.get(next++) : item);
        }
        return answers;
    }

    /** The unit of work; safe to run again in a transaction of its own (its batch rolled back). */
    private Accepted unit(Acceptance acceptance) {
        Submission submission = acceptance.submission();
        Instant now = clock.instant();
        if (submission.idempotencyKey() != null) {
            idempotency.release(submission.workspaceId(), submission.idempotencyKey(), now);
            Optional<Accepted> earlier = idempotency.find(submission.workspaceId(), submission.idempotencyKey(),
                    submission.requestHash(), now).map(found -> idempotency.answer(found, submission.idempotencyKey()));
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        // Over a soft limit the row(s) wait QUEUED for the window they were counted in.
        LimitHold hold = rateLimits.take(submission.workspaceId(), submission.userId(), now, submission.sendAt());
        if (acceptance.personalised()) {
            return storeCopies(acceptance, now, hold);
        }
        // Suppressed recipients leave the envelope here (a reject event each); with none left the
        // message is stored REJECTED and never queued.
        Envelope split = suppressions.envelope(submission.workspaceId(), submission.recipients());
        List<String> envelope = split.recipients();
        List<String> rejected = split.rejected();
        rows.insert(rows.row(submission.id(), submission.workspaceId(), submission.type().id(),
                submission.envelopeFrom(), envelope.isEmpty() ? rejected : envelope, submission.subject(),
                submission.rawMime(), submission.tags(), submission.metadata(), submission.campaignId(),
                submission.userId(), submission.idempotencyKey(), submission.requestHash(), now, envelope.isEmpty(),
                null).providerOverride(submission.providerOverride()).scheduledFor(submission.sendAt())
                .notBefore(hold == null ? null : hold.until()).priority(level(submission)));
        if (!rejected.isEmpty()) {
            rows.rejected(submission.id(), submission.workspaceId(), rejected, MessageRows.SUPPRESSED, now);
        }
        if (hold != null && !envelope.isEmpty()) {
            rows.deferred(submission.id(), submission.workspaceId(), envelope, hold.reason(), now);
        }
        MessageStatus status = envelope.isEmpty() ? MessageStatus.REJECTED : MessageStatus.QUEUED;
        log.info("accepted message {} workspace={} type={} recipients={} suppressed={} bytes={} status={}{}",
                submission.id(), submission.workspaceId(), submission.type().id(), envelope.size(), rejected.size(),
                submission.rawMime().length, status,
                scheduled(submission, now) + (hold == null ? "" : " (" + hold.reason() + ")"));
        return new Accepted(submission.id().toString(), status, false);
    }

    /** The log's note of a send time ahead; empty when the message is due now. */
    private static String scheduled(Submission submission, Instant now) {
        return submission.sendAt() != null && submission.sendAt().isAfter(now)
                ? " scheduled for " + submission.sendAt() : "";
    }

    /**
     * Each recipient's copy is a row of its own, all in this one transaction. The first row keeps
     * the submission's id and its idempotency key; every row carries that id as batch_id.
     */
    private Accepted storeCopies(Acceptance acceptance, Instant now, LimitHold hold) {
        Submission submission = acceptance.submission();
        List<Accepted.Part> parts = new ArrayList<>();
        for (Acceptance.Copy copy : acceptance.copies()) {
            boolean first = parts.isEmpty();
            MessageRecord row = rows.row(copy.id(), submission.workspaceId(), submission.type().id(),
                    submission.envelopeFrom(), List.of(copy.recipient()), copy.content().subject(),
                    copy.content().mime(), submission.tags(), submission.metadata(), submission.campaignId(),
                    submission.userId(), first ? submission.idempotencyKey() : null,
                    first ? submission.requestHash() : null, now, false, submission.id())
                    .providerOverride(submission.providerOverride()).priority(level(submission))
                    // Every copy waits for the send time, not only the first (and for a soft limit's window).
                    .scheduledFor(submission.sendAt())
                    .notBefore(hold == null ? null : hold.until());
            rows.insert(row);
            parts.add(new Accepted.Part(copy.id().toString(), copy.recipient(), MessageStatus.QUEUED));
        }
        List<String> rejected = acceptance.envelope().rejected();
        if (!rejected.isEmpty()) {
            rows.rejected(submission.id(), submission.workspaceId(), rejected, MessageRows.SUPPRESSED, now);
        }
        if (hold != null) {
            for (Acceptance.Copy copy : acceptance.copies()) {
                rows.deferred(copy.id(), submission.workspaceId(), List.of(copy.recipient()), hold.reason(), now);
            }
        }
        log.info("accepted message {} workspace={} type={} as {} personalised copies, suppressed={} status=QUEUED{}",
                submission.id(), submission.workspaceId(), submission.type().id(), parts.size(), rejected.size(),
                scheduled(submission, now) + (hold == null ? "" : " (" + hold.reason() + ")"));
        return new Accepted(submission.id().toString(), MessageStatus.QUEUED, false, parts);
    }

    /** The level the row is stored with: the one the submission asked for, else its email type's. */
    private int level(Submission submission) {
        return priorities.level(submission.workspaceId(), submission.type(), submission.priority());
    }
}
