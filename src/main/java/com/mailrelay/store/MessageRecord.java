package com.mailrelay.store;

import java.time.Instant;
import java.util.UUID;

import com.mailrelay.message.MessageStatus;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EnumType;
import jakarta.persistence.Enumerated;
import jakarta.persistence.Id;
import jakarta.persistence.Table;

/** A row of the persistent queue (see db/migration/V1__queue.sql for the meaning of next_attempt_at). */
@Entity
@Table(name = "messages")
public class MessageRecord {

    @Id
    private UUID id;
    private String workspaceId;
    private String emailType;
    private String fromAddr;
    private String recipients;
    private String subject;
    @Column(name = "raw_mime")
    private byte[] rawMime;
    private int sizeBytes;
    private String tags;
    private String metadata;
    private String campaignId;
    private String userId;
    private String idempotencyKey;
    private String requestHash;
    @Enumerated(EnumType.STRING)
    private MessageStatus status;
    private int attempts;
    private Instant nextAttemptAt;
    private String leaseOwner;
    private String providerId;
    private String providerMessageId;
    private String lastError;
    private Instant queuedAt;
    private Instant sentAt;
    private Instant updatedAt;
    private UUID batchId;
    private String providerOverride;
    private Instant sendAt;
    /** The level (message/Priority); see V22__priorities.sql. */
    private short priority = (short) com.mailrelay.message.Priority.NORMAL.level();
    /** Set by MessageRows#insert from the row as it is then (store/ClaimRanks). */
    private Instant claimRank;

    protected MessageRecord() {
    }

    public MessageRecord(UUID id, String workspaceId, String emailType, String fromAddr, String recipients,
                         String subject, byte[] rawMime, String tags, String metadata, String campaignId,
                         String userId, String idempotencyKey, String requestHash, Instant now, boolean rejected) {
        this(id, workspaceId, emailType, fromAddr, recipients, subject, rawMime, tags, metadata, campaignId, userId,
                idempotencyKey, requestHash, now, rejected, null);
    }

    /** @param batchId the first row's id, on every row of a submission stored as one row per recipient */
    public MessageRecord(UUID id, String workspaceId, String emailType, String fromAddr, String recipients,
                         String subject, byte[] rawMime, String tags, String metadata, String campaignId,
                         String userId, String idempotencyKey, String requestHash, Instant now, boolean rejected,
                         UUID batchId) {
        this.batchId = batchId;
        this.id = id;
        this.workspaceId = workspaceId;
        this.emailType = emailType;
        this.fromAddr = fromAddr;
        this.recipients = recipients;
        this.subject = subject;
        this.rawMime = rawMime;
        this.sizeBytes = rawMime.length;
        this.tags = tags;
        this.metadata = metadata;
        this.campaignId = campaignId;
        this.userId = userId;
        this.idempotencyKey = idempotencyKey;
        this.requestHash = requestHash;
        this.status = rejected ? MessageStatus.REJECTED : MessageStatus.QUEUED;
        this.nextAttemptAt = rejected ? null : now;
        this.queuedAt = now;
        this.updatedAt = now;
    }

    /**
     * This row as the first attempt of a worker that holds it under a lease: status SENDING, as if
     * queue-poll had claimed it (the Kafka queue's intake hands it straight to delivery).
     */
    public MessageRecord leased(String owner, Instant leaseUntil, Instant now) {
        this.status = MessageStatus.SENDING;
        this.attempts = 1;
        this.nextAttemptAt = leaseUntil;
        this.leaseOwner = owner;
        this.updatedAt = now;
        return this;
    }

    /** This row REJECTED for {@code reason} (never queued), written at {@code now}. */
    public MessageRecord refused(String reason, Instant now) {
        this.status = MessageStatus.REJECTED;
        this.nextAttemptAt = null;
        this.lastError = reason;
        this.updatedAt = now;
        return this;
    }

    /** The provider the submission named (null: the routes choose); see V13__provider_override.sql. */
    public MessageRecord providerOverride(String providerId) {
        this.providerOverride = providerId;
        return this;
    }

    /**
     * Not to be tried before {@code at} (a scheduled send, or a soft limit's later window): held
     * QUEUED until then. Does nothing to a REJECTED row, or when {@code at} is null or not later
     * than the time it is due already.
     */
    public MessageRecord notBefore(Instant at) {
        if (at != null && nextAttemptAt != null && at.isAfter(nextAttemptAt)) {
            this.nextAttemptAt = at;
        }
        return this;
    }

    /**
     * Sent at {@code at}, as the client asked (null: now): recorded in send_at, so that the views
     * show it and list what is scheduled, and held QUEUED until then ({@link #notBefore}); a time
     * already past is recorded and changes nothing else. See V23__scheduled_send.sql.
     */
    public MessageRecord scheduledFor(Instant at) {
        this.sendAt = at;
        return notBefore(at);
    }

    /** At priority {@code level} (message/Priority#level). */
    public MessageRecord priority(int level) {
        this.priority = (short) level;
        return this;
    }

    /** Ranked for the claim at {@code rank} (null: never claimed); see store/ClaimRanks. */
    MessageRecord claimRank(Instant rank) {
        this.claimRank = rank;
        return this;
    }

    /** Written at {@code now}, accepted earlier (at queuedAt): a row taken from the Kafka queue. */
    public MessageRecord updatedAt(Instant now) {
        this.updatedAt = now;
        return this;
    }

    public UUID getId() { return id; }
    public String getWorkspaceId() { return workspaceId; }
    public String getEmailType() { return emailType; }
    public String getFromAddr() { return fromAddr; }
    public String getRecipients() { return recipients; }
    public String getSubject() { return subject; }
    public byte[] getRawMime() { return rawMime; }
    public int getSizeBytes() { return sizeBytes; }
    public String getTags() { return tags; }
    public String getMetadata() { return metadata; }
    public String getCampaignId() { return campaignId; }
    public String getUserId() { return userId; }
    public String getIdempotencyKey() { return idempotencyKey; }
    public String getRequestHash() { return requestHash; }
    public MessageStatus getStatus() { return status; }
    public int getAttempts() { return attempts; }
    public Instant getNextAttemptAt() { return nextAttemptAt; }
    public String getLeaseOwner() { return leaseOwner; }
    public String getProviderId() { return providerId; }
    public String getProviderMessageId() { return providerMessageId; }
    public String getLastError() { return lastError; }
    public Instant getQueuedAt() { return queuedAt; }
    public Instant getSentAt() { return sentAt; }
    public Instant getUpdatedAt() { return updatedAt; }
    public UUID getBatchId() { return batchId; }
    public String getProviderOverride() { return providerOverride; }
    public Instant getSendAt() { return sendAt; }
    public int getPriority() { return priority; }
    public Instant getClaimRank() { return claimRank; }
}
