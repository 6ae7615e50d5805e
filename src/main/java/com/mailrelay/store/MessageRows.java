package com.mailrelay.store;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.EventType;
import com.mailrelay.message.Json;
import org.springframework.stereotype.Component;

/**
 * The one way a new message row is written, by database accept and by the Kafka queue's intake
 * alike: a {@link MessageRecord} written in the caller's transaction, held until its commit and
 * then sent with the other rows of that transaction as one JDBC batch ({@link PendingRows}): a
 * group commit holds the accepts of many clients in one transaction, and their rows go out as
 * one statement instead of one each. Plain JDBC, not a JPA persist: a new row is never read back
 * as an entity in its transaction, and the persistence context's bookkeeping of every row was a
 * measurable share of an accept's CPU. The other insert, QueueStore's continuation of put-off
 * recipients, stays an {@code insert … select}: it copies a stored row's MIME inside the
 * database, never reading it.
 * <p>
 * Reject events reference their message row, so {@link #rejected} sends the rows before it
 * writes them.
 */
@Component
public class MessageRows {

    /** Why a suppressed recipient is a reject event at accept. */
    public static final String SUPPRESSED = "recipient is on the workspace's suppression list";

    private final PendingRows pending;
    private final MessageRepository messages;
    private final EventWriter events;
    private final ClaimRanks ranks;

    MessageRows(PendingRows pending, MessageRepository messages, EventWriter events, ClaimRanks ranks) {
        this.pending = pending;
        this.messages = messages;
        this.events = events;
        this.ranks = ranks;
    }

    /**
     * A new row, QUEUED (or REJECTED: never queued), accepted at {@code queuedAt}.
     *
     * @param batchId the first row's id, on every row of a submission stored as one row per
     *                recipient; else null
     */
    public MessageRecord row(UUID id, String workspaceId, String emailType, String envelopeFrom,
                             List<String> recipients, String subject, byte[] rawMime, List<String> tags,
                             Map<String, Object> metadata, String campaignId, String userId, String idempotencyKey,
                             String requestHash, Instant queuedAt, boolean rejected, UUID batchId) {
        return new MessageRecord(id, workspaceId, emailType, envelopeFrom, Json.write(recipients), subject, rawMime,
                Json.write(tags), Json.write(metadata), campaignId, userId, idempotencyKey, requestHash, queuedAt, rejected,
                batchId);
    }

    /**
     * Writes {@code row} in the caller's transaction (sent with the commit, batched with the others),
     * ranked for the claim from the row as it is now: a QUEUED row in its workspace's stream at its
     * level from its due time (a scheduled send or a soft limit's window included), a row leased at
     * once (the Kafka queue's intake) at its lease's end, a REJECTED one not at all.
     */
    public void insert(MessageRecord row) {
        Instant due = row.getNextAttemptAt();
        if (due == null) {
            row.claimRank(null);
        } else if (row.getStatus() == com.mailrelay.message.MessageStatus.QUEUED) {
            row.claimRank(ranks.next(row.getWorkspaceId(), row.getPriority(), due));
        } else {
            row.claimRank(ranks.again(row.getPriority(), due));
        }
        pending.add(row);
    }

    /**
     * The rows written in this transaction are sent at its commit only, no longer before each of
     * its look-ups: a batch of messages looks up an Idempotency-Key per message, and each look-up
     * would otherwise send the rows written before it, item after item, instead of one batch.
     * Only for work whose look-ups need not see its own unsent rows; {@link #rejected} still
     * sends them before its events.
     */
    public void writeAtCommit() {
        pending.atCommitOnly();
    }

    /** Whether a message with this id has a row already (a Kafka record seen again); reads no MIME. */
    public boolean exists(UUID id) {
        pending.flushForLookUp();
        return messages.existsById(id);
    }

    /**
     * A deferral event for each of {@code recipients} of {@code message}, after its row: the one
     * event of a message a soft limit holds, its reason naming the limit.
     */
    public void deferred(UUID message, String workspaceId, List<String> recipients, String reason, Instant at) {
        pending.flush();  // the events reference the message row
        events.write(message, workspaceId, EventType.DEFERRAL, recipients, null, reason, 0, Timestamp.from(at));
    }

    /** A reject event for each of {@code recipients} of {@code message}, after its row. */
    public void rejected(UUID message, String workspaceId, List<String> recipients, String reason, Instant at) {
        pending.flush();  // the events reference the message row
        events.write(message, workspaceId, EventType.REJECT, recipients, null, reason, 0, Timestamp.from(at));
    }
}
