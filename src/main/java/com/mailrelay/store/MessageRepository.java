package com.mailrelay.store;

import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Modifying;
import org.springframework.data.jpa.repository.Query;

public interface MessageRepository extends JpaRepository<MessageRecord, UUID> {

    Optional<MessageRecord> findByWorkspaceIdAndIdempotencyKey(String workspaceId, String idempotencyKey);

    Optional<MessageRecord> findByIdAndWorkspaceId(UUID id, String workspaceId);

    /** The rows of a submission stored as one row per recipient. */
    List<MessageRecord> findByWorkspaceIdAndBatchId(String workspaceId, UUID batchId);

    /** A message of a workspace, without its MIME (see {@link MessageSummary}). */
    @Query(MessageSummary.SELECT + "where m.id = :id and m.workspaceId = :workspaceId")
    Optional<MessageSummary> findSummary(UUID id, String workspaceId);

    /** Any workspace's message, without its MIME: what an admin key reads. */
    @Query(MessageSummary.SELECT + "where m.id = :id")
    Optional<MessageSummary> findSummaryById(UUID id);

    /** The message an Idempotency-Key names, without its MIME: idempotent retries read only its status. */
    @Query(MessageSummary.SELECT + "where m.workspaceId = :workspaceId and m.idempotencyKey = :idempotencyKey")
    Optional<MessageSummary> findSummaryByIdempotencyKey(String workspaceId, String idempotencyKey);

    /** The rows of a submission stored as one row per recipient, without their MIME. */
    @Query(MessageSummary.SELECT + "where m.workspaceId = :workspaceId and m.batchId = :batchId")
    List<MessageSummary> findSummariesOfBatch(String workspaceId, UUID batchId);

    /** Frees an idempotency key whose message was accepted before {@code before} (see Idempotency). */
    @Modifying
    @Query("update MessageRecord m set m.idempotencyKey = null"
            + " where m.workspaceId = :workspaceId and m.idempotencyKey = :idempotencyKey and m.queuedAt < :before")
    int releaseExpiredIdempotencyKey(String workspaceId, String idempotencyKey, Instant before);
}
