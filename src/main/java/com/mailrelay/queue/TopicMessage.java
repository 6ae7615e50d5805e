package com.mailrelay.queue;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * An accepted message as a record of the Kafka queue's topic (JSON; the MIME in base64): all a
 * consumer needs to write its row in the messages table, as a database-mode accept would have.
 *
 * @param recipients the envelope, suppressed recipients already left out
 * @param rejected   the suppressed recipients (a reject event each); all of them when none is left
 * @param queuedAt   when the relay accepted it: the start of its retry age and idempotency window
 * @param providerOverride the provider the submission named (null: the routes choose; a record of
 *                   an earlier version has none)
 * @param sendAt     when the client asked it to be sent (null: at once; a record of an earlier
 *                   version has none): one not yet due is stored QUEUED until then, not delivered
 * @param priority   the level the row is stored with (message/Priority#level), decided at accept; null
 *                   in a record of an earlier version (its email type's level then)
 * @param notBefore  held by a soft limit until then (its row is written QUEUED, due then); null: not held
 * @param heldBy     the soft limit that held it, in words (its deferral event's reply); null: not held
 */
public record TopicMessage(
        UUID id,
        String workspaceId,
        String emailType,
        String envelopeFrom,
        List<String> recipients,
        List<String> rejected,
        String subject,
        byte[] rawMime,
        List<String> tags,
        Map<String, Object> metadata,
        String campaignId,
        String userId,
        String idempotencyKey,
        String requestHash,
        Instant queuedAt,
        String providerOverride,
        Instant sendAt,
        Integer priority,
        Instant notBefore,
        String heldBy) {

    /** A record no limit holds, sent now, at its email type's level. */
    public TopicMessage(UUID id, String workspaceId, String emailType, String envelopeFrom, List<String> recipients,
                        List<String> rejected, String subject, byte[] rawMime, List<String> tags,
                        Map<String, Object> metadata, String campaignId, String userId, String idempotencyKey,
                        String requestHash, Instant queuedAt, String providerOverride) {
        this(id, workspaceId, emailType, envelopeFrom, recipients, rejected, subject, rawMime, tags, metadata,
                campaignId, userId, idempotencyKey, requestHash, queuedAt, providerOverride, null, null, null, null);
    }

    /** Whether a soft limit holds it until {@link #notBefore}. */
    public boolean held() {
        return notBefore != null;
    }

    /** Whether the record has what a row needs (one from another producer or version may not). */
    public boolean complete() {
        return id != null && workspaceId != null && emailType != null && envelopeFrom != null
                && recipients != null && rejected != null && rawMime != null && queuedAt != null;
    }

    /** Every recipient was suppressed: stored REJECTED, never sent. */
    public boolean allRejected() {
        return recipients.isEmpty();
    }
}
