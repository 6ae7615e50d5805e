package com.mailrelay.store;

import java.time.Instant;
import java.util.UUID;

import com.mailrelay.message.MessageStatus;

/**
 * A message's row without its MIME: what {@code GET /api/v1/messages/{id}} and idempotent retries
 * read. A JPQL constructor query selects exactly these columns, so raw_mime (up to
 * relay.max-message-size per row, and eagerly loaded by {@link MessageRecord}) never leaves the database.
 */
public record MessageSummary(
        UUID id,
        String workspaceId,
        String emailType,
        String fromAddr,
        String recipients,
        String subject,
        int sizeBytes,
        MessageStatus status,
        int attempts,
        String providerId,
        String providerMessageId,
        String lastError,
        String requestHash,
        UUID batchId,
        Instant queuedAt,
        Instant nextAttemptAt,
        Instant sentAt,
        Instant updatedAt,
        Instant sendAt,
        int priority) {

    /** The select list of every query that builds one, in the constructor's order. */
    static final String SELECT = "select new com.mailrelay.store.MessageSummary(m.id, m.workspaceId, m.emailType, "
            + "m.fromAddr, m.recipients, m.subject, m.sizeBytes, m.status, m.attempts, m.providerId, "
            + "m.providerMessageId, m.lastError, m.requestHash, m.batchId, m.queuedAt, m.nextAttemptAt, m.sentAt, "
            + "m.updatedAt, m.sendAt, m.priority) from MessageRecord m ";
}
