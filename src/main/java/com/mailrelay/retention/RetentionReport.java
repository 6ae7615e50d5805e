package com.mailrelay.retention;

import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * What a retention run did, or what the next one would do (a dry run): per workspace and kind, the
 * rows it drops or deletes. {@code GET /api/v1/retention} and {@code POST /api/v1/retention/run}
 * answer it.
 *
 * @param dryRun     true for the preview: nothing was changed
 * @param workspaces one entry per workspace with something to do (a null workspace: audit entries of
 *                   no workspace), in name order
 * @param total      the sums over them
 */
public record RetentionReport(Instant at, boolean dryRun, List<WorkspaceCounts> workspaces, Counts total) {

    /**
     * @param rawMimeAfter  the workspace's raw-MIME window (its own, or relay.retention.raw-mime)
     * @param messagesAfter the workspace's message window (its own, or relay.retention.messages)
     */
    public record WorkspaceCounts(String workspace, Duration rawMimeAfter, Duration messagesAfter, Counts counts) {
    }

    /**
     * @param rawMime              finished messages whose raw MIME is dropped (set to null)
     * @param messages             finished messages deleted
     * @param events               events deleted with those messages
     * @param webhookEventsExpired events given up after waiting relay.retention.webhook-pending for their webhook
     * @param deliveryAttempts     delivery_attempts rows deleted (older than relay.retention.attempts)
     * @param webhookAttempts      webhook_attempts rows deleted (older than relay.retention.attempts)
     * @param auditLog             audit_log entries deleted (older than relay.retention.audit-log)
     */
    public record Counts(long rawMime, long messages, long events, long webhookEventsExpired, long deliveryAttempts,
                         long webhookAttempts, long auditLog) {

        static Counts of(long[] tally) {
            return new Counts(tally[Kind.RAW_MIME.ordinal()], tally[Kind.MESSAGES.ordinal()],
                    tally[Kind.EVENTS.ordinal()], tally[Kind.WEBHOOK_EVENTS_EXPIRED.ordinal()],
                    tally[Kind.DELIVERY_ATTEMPTS.ordinal()], tally[Kind.WEBHOOK_ATTEMPTS.ordinal()],
                    tally[Kind.AUDIT_LOG.ordinal()]);
        }

        long sum() {
            return rawMime + messages + events + webhookEventsExpired + deliveryAttempts + webhookAttempts + auditLog;
        }
    }

    /** What retention drops or deletes; the order of {@link Counts}. */
    enum Kind { RAW_MIME, MESSAGES, EVENTS, WEBHOOK_EVENTS_EXPIRED, DELIVERY_ATTEMPTS, WEBHOOK_ATTEMPTS, AUDIT_LOG }
}
