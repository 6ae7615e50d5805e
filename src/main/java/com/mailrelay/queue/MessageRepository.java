package com.mailrelay.queue;

import java.util.Optional;
import java.util.UUID;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Modifying;
import org.springframework.data.jpa.repository.Query;

public interface MessageRepository extends JpaRepository<MessageRecord, UUID> {

    Optional<MessageRecord> findByWorkspaceIdAndIdempotencyKey(String workspaceId, String idempotencyKey);

    Optional<MessageRecord> findByIdAndWorkspaceId(UUID id, String workspaceId);

    /** Frees the idempotency key of a message older than the idempotency window. */
    @Modifying
    @Query("update MessageRecord m set m.idempotencyKey = null where m.id = :id")
    void releaseIdempotencyKey(UUID id);
}
