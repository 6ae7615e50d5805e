package com.mailrelay.store;

import java.sql.Timestamp;
import java.util.List;

import com.mailrelay.message.ClaimedMessage;
import com.mailrelay.message.DeliveryAttempt;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Writes the providers tried in a delivery attempt to {@code delivery_attempts}, in the caller's
 * transaction — that of the outcome they explain (QueueStore), so that the hot path commits once
 * per attempt whatever the length of its chain. Values are cut to their columns: a reply is
 * already bounded by provider/ChainAttempts, this is the last guard.
 */
@Component
public class AttemptRows {

    private final JdbcTemplate jdbc;

    public AttemptRows(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public void write(ClaimedMessage message, List<DeliveryAttempt> attempts) {
        if (attempts.isEmpty()) {
            return;
        }
        jdbc.batchUpdate("""
                insert into delivery_attempts (message_id, workspace_id, attempt, provider_id, outcome, code, reply,
                                               duration_ms, started_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?)""", attempts, 100, (statement, attempt) -> {
            statement.setObject(1, message.id());
            statement.setString(2, message.workspaceId());
            statement.setInt(3, message.attempt());
            statement.setString(4, cut(attempt.providerId(), 128));
            statement.setString(5, attempt.outcome().name());
            statement.setString(6, cut(attempt.code(), 16));
            statement.setString(7, cut(attempt.reply(), 4000));
            statement.setInt(8, attempt.durationMs());
            statement.setTimestamp(9, Timestamp.from(attempt.startedAt()));
        });
    }

    private static String cut(String value, int max) {
        return value == null || value.length() <= max ? value : value.substring(0, max);
    }
}
