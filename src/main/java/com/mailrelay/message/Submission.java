package com.mailrelay.message;

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
        MergeData merge) {

    /** RFC 5321 requires servers to accept at least 100 recipients; more per message is refused. */
    public static final int MAX_RECIPIENTS = 100;
}
