package com.mailrelay.message;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A message ready to be stored: validated, its MIME built (REST) or kept as received (SMTP).
 * The one shape both ingresses hand to {@code direct:accept} (accept.AcceptRoutes).
 *
 * @param recipients   the envelope recipients (to, cc and bcc for REST; RCPT TO for SMTP)
 * @param rawMime      the bytes that will be sent upstream
 * @param requestHash  digest of the client's request, to tell an idempotent retry from a reuse of its key
 * @param merge        variables for {{NAME}} placeholders ({@link MergeData#NONE} when there are none)
 * @param providerOverride the provider the client named for this message (REST {@code provider},
 *                     SMTP {@code X-Relay-Provider}), checked against the workspace's provider-override
 *                     and the running provider routes; null when the routes choose (nearly always)
 * @param priority     the priority the client asked for (REST {@code priority}, SMTP {@code X-Relay-Priority}),
 *                     already checked against the workspace's bounds; null for its email type's default
 * @param sendAt       when the client asked it to be sent (REST {@code send_at}, SMTP {@code X-Relay-Send-At}),
 *                     already checked against the horizon; null to send now
 * @param content      content made for each recipient (a stored template rendered with each one's data);
 *                     null when every recipient gets {@code rawMime} (nearly always)
 */
public record Submission(
        UUID id,
        String workspaceId,
        EmailType type,
        String envelopeFrom,
        List<String> recipients,
        String subject,
        byte[] rawMime,
        List<String> tags,
        Map<String, Object> metadata,
        String campaignId,
        String userId,
        String idempotencyKey,
        String requestHash,
        MergeData merge,
        String providerOverride,
        Integer priority,
        Instant sendAt,
        RecipientContent content) {

    /** A submission without a priority, a send time or per-recipient content of its own. */
    public Submission(UUID id, String workspaceId, EmailType type, String envelopeFrom, List<String> recipients,
                      String subject, byte[] rawMime, List<String> tags, Map<String, Object> metadata,
                      String campaignId, String userId, String idempotencyKey, String requestHash, MergeData merge,
                      String providerOverride) {
        this(id, workspaceId, type, envelopeFrom, recipients, subject, rawMime, tags, metadata, campaignId, userId,
                idempotencyKey, requestHash, merge, providerOverride, null, null, null);
    }

    /** A submission that leaves the choice of provider to the routes. */
    public Submission(UUID id, String workspaceId, EmailType type, String envelopeFrom, List<String> recipients,
                      String subject, byte[] rawMime, List<String> tags, Map<String, Object> metadata,
                      String campaignId, String userId, String idempotencyKey, String requestHash, MergeData merge) {
        this(id, workspaceId, type, envelopeFrom, recipients, subject, rawMime, tags, metadata, campaignId, userId,
                idempotencyKey, requestHash, merge, null);
    }

    /** This submission with the client's priority (null: the email type's default). */
    public Submission withPriority(Integer requested) {
        return new Submission(id, workspaceId, type, envelopeFrom, recipients, subject, rawMime, tags, metadata,
                campaignId, userId, idempotencyKey, requestHash, merge, providerOverride, requested, sendAt, content);
    }

    /** This submission to be sent at {@code at} (null: now). */
    public Submission withSendAt(Instant at) {
        return new Submission(id, workspaceId, type, envelopeFrom, recipients, subject, rawMime, tags, metadata,
                campaignId, userId, idempotencyKey, requestHash, merge, providerOverride, priority, at, content);
    }

    /** This submission with content made for each recipient (null: {@code rawMime} for all). */
    public Submission withContent(RecipientContent perRecipient) {
        return new Submission(id, workspaceId, type, envelopeFrom, recipients, subject, rawMime, tags, metadata,
                campaignId, userId, idempotencyKey, requestHash, merge, providerOverride, priority, sendAt,
                perRecipient);
    }

    /** RFC 5321 requires servers to accept at least 100 recipients; more per message is refused. */
    public static final int MAX_RECIPIENTS = 100;
}
