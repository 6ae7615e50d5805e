package com.mailrelay.messages;

import java.time.Instant;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonRawValue;

/**
 * {@code GET /api/v1/messages/{id}}: where a message is and how it got there (events one page at a
 * time, operator actions among them), with links to its stored bytes and its delivery attempts.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record MessageView(
        String id,
        String status,
        String workspace,
        String type,
        String from,
        @JsonRawValue String recipients,
        String subject,
        int sizeBytes,
        int attempts,
        String provider,
        String providerMessageId,
        String providerReply,
        Instant queuedAt,
        Instant nextAttemptAt,
        Instant sentAt,
        Instant updatedAt,
        Links links,
        List<Event> events,
        // The next page of events (GET .../messages/{id}?after=<last id>&limit=<n>); absent on the last page.
        String next,
        // When the client asked it to be sent (send_at); absent: at once.
        Instant sendAt,
        // critical, high, normal or low: how urgently it is claimed (store/ClaimRanks)
        String priority) {

    /** Where the rest of the message is: its stored bytes, its delivery attempts (the provider's replies). */
    public record Links(String self, String raw, String attempts) {
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Event(long id, String type, String recipient, Instant at, @JsonRawValue String detail) {
    }
}
