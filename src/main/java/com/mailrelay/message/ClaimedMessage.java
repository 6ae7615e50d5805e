package com.mailrelay.message;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A message a worker holds a lease on. {@code attempt} is the number of this delivery attempt
 * (1 for the first); together with the id it names the lease, so that an outcome recorded after
 * the lease was lost and the message re-claimed changes nothing. {@code providerOverride} is the
 * provider the submission named, checked at accept (null: the routes choose).
 */
public record ClaimedMessage(
        UUID id,
        String workspaceId,
        String emailType,
        String envelopeFrom,
        List<String> recipients,
        byte[] rawMime,
        int attempt,
        Instant queuedAt,
        String providerOverride) {
}
