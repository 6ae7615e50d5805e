package com.mailrelay.messages;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import com.mailrelay.message.MessageIds;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Rows of the messages table written straight by the tests of this package, in one JDBC batch:
 * thousands in a second, in any status and at any accept time, which the accept path could only
 * give slowly. Each carries a small valid MIME, so that a row a test makes due is delivered.
 */
final class StoredRows {

    /** One row to write; null fields take the defaults of {@link #row}. */
    record Row(UUID id, String workspace, String type, String status, String recipients, String tags, String campaign,
               Instant queuedAt, Instant nextAttemptAt, String provider, String lastError, Instant updatedAt,
               byte[] mime) {

        Row status(String status, Instant nextAttemptAt) {
            return new Row(id, workspace, type, status, recipients, tags, campaign, queuedAt, nextAttemptAt, provider,
                    lastError, updatedAt, mime);
        }

        Row failed(String provider, String lastError, Instant failedAt) {
            return new Row(id, workspace, type, "FAILED", recipients, tags, campaign, queuedAt, null, provider,
                    lastError, failedAt, mime);
        }

        Row with(String type, String recipients, String tags, String campaign) {
            return new Row(id, workspace, type, status, recipients, tags, campaign, queuedAt, nextAttemptAt, provider,
                    lastError, updatedAt, mime);
        }

        Row mime(byte[] mime) {
            return new Row(id, workspace, type, status, recipients, tags, campaign, queuedAt, nextAttemptAt, provider,
                    lastError, updatedAt, mime);
        }
    }

    private StoredRows() {
    }

    /** A SENT transactional row of the workspace to {@code to}, accepted at {@code queuedAt}. */
    static Row row(String workspace, String to, Instant queuedAt) {
        UUID id = MessageIds.next();
        String mime = "From: app@ops.relay.test\r\nTo: " + to + "\r\nSubject: row " + id + "\r\nMessage-ID: <" + id
                + "@ops.relay.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nBody of " + id + "\r\n";
        return new Row(id, workspace, "transactional", "SENT", "[\"" + to + "\"]", null, null, queuedAt, null, null,
                null, queuedAt, mime.getBytes(StandardCharsets.US_ASCII));
    }

    static void insert(JdbcTemplate jdbc, List<Row> rows) {
        List<Object[]> args = new ArrayList<>(rows.size());
        for (Row r : rows) {
            args.add(new Object[] {r.id(), r.workspace(), r.type(), "app@ops.relay.test", r.recipients(),
                    "row " + r.id(), r.mime(), Math.max(r.mime().length, 1), r.tags(), r.campaign(), r.status(),
                    "FAILED".equals(r.status()) ? 3 : 0, timestamp(r.nextAttemptAt()), timestamp(r.queuedAt()),
                    timestamp(r.updatedAt()), r.provider(), r.lastError(),
                    "SENT".equals(r.status()) ? timestamp(r.updatedAt()) : null});
        }
        jdbc.batchUpdate("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                                      tags, campaign_id, status, attempts, next_attempt_at, queued_at, updated_at,
                                      provider_id, last_error, sent_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""", args);
    }

    private static Timestamp timestamp(Instant instant) {
        return instant == null ? null : Timestamp.from(instant);
    }
}
