package com.mailrelay.store;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The message rows a transaction has written but not yet sent to the database: held until its
 * commit (or until something must see them first) and then inserted as ONE JDBC batch, which the
 * PostgreSQL driver sends as multi-row inserts (reWriteBatchedInserts). A group commit holds the
 * accepts of many clients in one transaction, so its rows go out together, as Hibernate's batch of
 * persisted entities did, without the entity bookkeeping (persistence context, dirty checks).
 * <p>
 * Whatever reads or references these rows in the same transaction first calls {@link #flush}: the
 * reject and deferral events (they reference the row), the Idempotency-Key look-ups and the
 * look-up by id (they read the messages table). Outside a transaction a row is inserted at once.
 */
@Component
class PendingRows {

    private static final String INSERT = """
            insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                                  tags, metadata, campaign_id, user_id, idempotency_key, request_hash, status, attempts,
                                  next_attempt_at, lease_owner, provider_id, provider_message_id, last_error, queued_at,
                                  sent_at, updated_at, batch_id, provider_override, send_at, priority, claim_rank)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";

    /** The rows of the current transaction, and whether its look-ups need not see them (writeAtCommit). */
    private static final class Batch implements TransactionSynchronization {

        private final JdbcTemplate jdbc;
        private final List<MessageRecord> rows = new ArrayList<>();
        private boolean atCommitOnly;

        Batch(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        void send() {
            if (rows.isEmpty()) {
                return;
            }
            List<MessageRecord> written = List.copyOf(rows);
            rows.clear();
            insert(jdbc, written);
        }

        /** The transaction flushed by its manager: its rows go too. */
        @Override
        public void flush() {
            send();
        }

        @Override
        public void beforeCommit(boolean readOnly) {
            send();
        }

        /** A transaction of its own runs meanwhile (REQUIRES_NEW): its rows are not these. */
        @Override
        public void suspend() {
            TransactionSynchronizationManager.unbindResourceIfPossible(PendingRows.class);
        }

        @Override
        public void resume() {
            TransactionSynchronizationManager.bindResource(PendingRows.class, this);
        }

        @Override
        public void afterCompletion(int status) {
            rows.clear();
            TransactionSynchronizationManager.unbindResourceIfPossible(PendingRows.class);
        }
    }

    private final JdbcTemplate jdbc;

    PendingRows(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Holds {@code row} until the commit of the caller's transaction (or a {@link #flush} before it). */
    void add(MessageRecord row) {
        Batch batch = batch(true);
        if (batch == null) {
            insert(jdbc, List.of(row));
        } else {
            batch.rows.add(row);
        }
    }

    /** Sends the held rows now, so that what follows in the transaction sees (or references) them. */
    void flush() {
        Batch batch = batch(false);
        if (batch != null) {
            batch.send();
        }
    }

    /** {@link #flush} before a look-up, unless the transaction said its look-ups need not see its own rows. */
    void flushForLookUp() {
        Batch batch = batch(false);
        if (batch != null && !batch.atCommitOnly) {
            batch.send();
        }
    }

    /** This transaction's look-ups need not see its own rows: they are all sent at its commit. */
    void atCommitOnly() {
        Batch batch = batch(true);
        if (batch != null) {
            batch.atCommitOnly = true;
        }
    }

    private Batch batch(boolean create) {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            return null;
        }
        Batch batch = (Batch) TransactionSynchronizationManager.getResource(PendingRows.class);
        if (batch == null && create) {
            batch = new Batch(jdbc);
            TransactionSynchronizationManager.bindResource(PendingRows.class, batch);
            TransactionSynchronizationManager.registerSynchronization(batch);
        }
        return batch;
    }

    private static void insert(JdbcTemplate jdbc, List<MessageRecord> rows) {
        if (rows.size() == 1) {
            jdbc.update(INSERT, statement -> bind(statement, rows.get(0)));
        } else {
            jdbc.batchUpdate(INSERT, rows, rows.size(), PendingRows::bind);
        }
    }

    private static void bind(PreparedStatement statement, MessageRecord row) throws SQLException {
        int i = 0;
        statement.setObject(++i, row.getId());
        statement.setString(++i, row.getWorkspaceId());
        statement.setString(++i, row.getEmailType());
        statement.setString(++i, row.getFromAddr());
        statement.setString(++i, row.getRecipients());
        statement.setString(++i, row.getSubject());
        statement.setBytes(++i, row.getRawMime());
        statement.setInt(++i, row.getSizeBytes());
        statement.setString(++i, row.getTags());
        statement.setString(++i, row.getMetadata());
        statement.setString(++i, row.getCampaignId());
        statement.setString(++i, row.getUserId());
        statement.setString(++i, row.getIdempotencyKey());
        statement.setString(++i, row.getRequestHash());
        statement.setString(++i, row.getStatus().name());
        statement.setInt(++i, row.getAttempts());
        timestamp(statement, ++i, row.getNextAttemptAt());
        statement.setString(++i, row.getLeaseOwner());
        statement.setString(++i, row.getProviderId());
        statement.setString(++i, row.getProviderMessageId());
        statement.setString(++i, row.getLastError());
        timestamp(statement, ++i, row.getQueuedAt());
        timestamp(statement, ++i, row.getSentAt());
        timestamp(statement, ++i, row.getUpdatedAt());
        if (row.getBatchId() == null) {
            statement.setNull(++i, Types.OTHER);
        } else {
            statement.setObject(++i, row.getBatchId());
        }
        statement.setString(++i, row.getProviderOverride());
        timestamp(statement, ++i, row.getSendAt());
        statement.setShort(++i, (short) row.getPriority());
        timestamp(statement, ++i, row.getClaimRank());
    }

    private static void timestamp(PreparedStatement statement, int index, Instant at) throws SQLException {
        statement.setTimestamp(index, at == null ? null : Timestamp.from(at));
    }
}
