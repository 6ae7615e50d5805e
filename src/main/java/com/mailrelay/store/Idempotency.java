package com.mailrelay.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.Accepted;
import com.mailrelay.message.IdempotencyConflictException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

/**
 * The one Idempotency-Key check, for every place that takes a message in: database accept, Kafka
 * accept, and the Kafka queue's intake. A key names the message it first created for
 * {@link #WINDOW}; a later request under it either repeats that request (the same request hash:
 * answered with the earlier message, stored nothing) or is a different one (refused at accept,
 * recorded REJECTED at intake). An older holder no longer counts, and {@link #release} frees its
 * key for the new message (the unique constraint would refuse the row otherwise).
 * <p>
 * Summaries, not entities: a retry reads statuses, never the MIME of the message or its copies.
 */
@Component
public class Idempotency {

    /** How long an Idempotency-Key keeps answering with the message it first created. */
    public static final Duration WINDOW = Duration.ofHours(24);

    private static final Logger log = LoggerFactory.getLogger(Idempotency.class);

    private final MessageRepository messages;
    private final ObjectMapper json;
    private final PendingRows pending;

    Idempotency(MessageRepository messages, ObjectMapper json, PendingRows pending) {
        this.messages = messages;
        this.pending = pending;
        this.json = json;
    }

    /** The message that holds a key, and whether the new request is the same one. */
    public record Earlier(MessageSummary message, boolean sameRequest) {
    }

    /**
     * The message of the workspace that holds {@code key} and was accepted within the window
     * before {@code asOf}, if any.
     */
    public Optional<Earlier> find(String workspace, String key, String requestHash, Instant asOf) {
        if (key == null) {
            return Optional.empty();
        }
        pending.flushForLookUp();   // a row this transaction wrote holds its key too
        return messages.findSummaryByIdempotencyKey(workspace, key)
                .filter(earlier -> !earlier.queuedAt().isBefore(asOf.minus(WINDOW)))
                .map(earlier -> new Earlier(earlier, Objects.equals(earlier.requestHash(), requestHash)));
    }

    /**
     * Frees {@code key} when the message holding it was accepted longer than the window before
     * {@code asOf}: the new message may take it. Runs in the caller's transaction.
     */
    public void release(String workspace, String key, Instant asOf) {
        if (key != null) {
            pending.flushForLookUp();
            messages.releaseExpiredIdempotencyKey(workspace, key, asOf.minus(WINDOW));
        }
    }

    /**
     * What an accept answers for a request that repeats an earlier one: that message, with its
     * per-recipient rows when it was stored one row per recipient.
     *
     * @throws IdempotencyConflictException when the key belongs to a different request (422 / 550)
     */
    public Accepted answer(Earlier earlier, String key) {
        MessageSummary message = earlier.message();
        if (!earlier.sameRequest()) {
            throw new IdempotencyConflictException(key);
        }
        log.info("idempotent retry of message {} (key {})", message.id(), key);
        pending.flushForLookUp();
        List<Accepted.Part> parts = message.batchId() == null ? List.of()
                : messages.findSummariesOfBatch(message.workspaceId(), message.batchId()).stream()
                        // version 7 ids: their text order is the order they were made in
                        .sorted(Comparator.comparing(row -> row.id().toString()))
                        .map(row -> new Accepted.Part(row.id().toString(), recipientOf(row), row.status()))
                        .toList();
        return new Accepted(message.id().toString(), message.status(), true, parts);
    }

    private String recipientOf(MessageSummary row) {
        try {
            List<String> recipients = json.readValue(row.recipients(), new TypeReference<List<String>>() { });
            return recipients.isEmpty() ? null : recipients.get(0);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("recipients of message " + row.id() + " are not a JSON list", e);
        }
    }
}
