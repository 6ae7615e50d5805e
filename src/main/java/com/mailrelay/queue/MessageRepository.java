package com.mailrelay.queue;

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

    /** Frees the idempotency key of a message older than the idempotency window. */
    @Modifying
    @Query("update MessageRecord m set m.idempotencyKey = null where m.id = :id")
    void releaseIdempotencyKey(UUID id);
}
