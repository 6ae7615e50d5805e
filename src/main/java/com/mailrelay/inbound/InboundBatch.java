package com.mailrelay.inbound;

import java.time.Instant;
import java.util.List;

/**
 * The events of one verified request.
 *
 * @param replayToken a value the provider promises never to sign twice (Mailgun's token), or
 *                    null when it gives none
 * @param signedAt    the signature's timestamp
 */
public record InboundBatch(InboundProvider provider, String workspace, String replayToken, Instant signedAt,
                           List<InboundEvent> events) {
}
