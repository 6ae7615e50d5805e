package com.mailrelay.queue;

import java.io.IOException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.accept.MessageAcceptor;
import com.mailrelay.config.RelayProperties;
import com.mailrelay.events.EventType;
import com.mailrelay.events.EventWriter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Takes a record of the Kafka queue into the messages table, as this worker's first attempt:
 * status SENDING under a lease, exactly as if queue-poll had claimed it. The insert is the
 * hand-over: once it is committed the database schedule owns the message (retries, and a lease
 * that runs out if this worker dies), so a record seen again — after a crash or a rebalance, its
 * offset not yet committed — finds its row and is skipped, never sent a second time.
 */
@Component("queueIntake")
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class QueueIntake {

    private static final Logger log = LoggerFactory.getLogger(QueueIntake.class);

    private final JdbcTemplate jdbc;
    private final ObjectMapper json;
    private final Clock clock;
    private final EventWriter events;
    private final GroupCommit groupCommit;
    private final QueueStore store;
    private final RelayProperties.Worker worker;

    public QueueIntake(JdbcTemplate jdbc, ObjectMapper json, Clock clock, EventWriter events, GroupCommit groupCommit,
                       QueueStore store, RelayProperties properties) {
        this.jdbc = jdbc;
        this.json = json;
        this.clock = clock;
        this.events = events;
        this.groupCommit = groupCommit;
        this.store = store;
        this.worker = properties.worker();
    }

    /**
     * @return the message to deliver now, or null when there is nothing to send: the record was
     *         taken before, its Idempotency-Key belongs to an earlier message, every recipient is
     *         suppressed, or it is not a message at all
     */
    public ClaimedMessage take(byte[] record) {
        TopicMessage message;
        try {
            message = json.readValue(record, TopicMessage.class);
        } catch (IOException e) {
            // Retrying cannot make it readable, and it must not block its partition.
            log.error("skipping a record of the queue topic that is not a message: {}", e.getMessage());
            return null;
        }
        if (!message.complete()) {
            log.error("skipping a record of the queue topic that lacks a message's fields: id {}", message.id());
            return null;
        }
        // Committed with concurrent intakes and outcomes; safe to run again alone (the insert is conditional).
        boolean inserted = groupCommit.commit(() -> insert(message));
        if (!inserted) {
            log.info("message {} is already taken (a record seen again) or its Idempotency-Key is in use: not sent again",
                    message.id());
            return null;
        }
        if (message.allRejected()) {
            return null;
        }
        return new ClaimedMessage(message.id(), message.workspaceId(), message.emailType(), message.envelopeFrom(),
                message.recipients(), message.rawMime(), 1, message.queuedAt());
    }

    private boolean insert(TopicMessage message) {
        Timestamp now = Timestamp.from(clock.instant());
        if (message.idempotencyKey() != null) {
            // As at a database-mode accept: a key older than the window is free for the new message.
            jdbc.update("update messages set idempotency_key = null"
                            + " where workspace_id = ? and idempotency_key = ? and queued_at < ?",
                    message.workspaceId(), message.idempotencyKey(),
                    Timestamp.from(message.queuedAt().minus(MessageAcceptor.IDEMPOTENCY_WINDOW)));
        }
        boolean rejected = message.allRejected();
        int rows = jdbc.update("""
                insert into messages (id, workspace_id, email_type, from_addr, recipients, subject, raw_mime, size_bytes,
                                      tags, metadata, campaign_id, user_id, idempotency_key, request_hash, status,
                                      attempts, next_attempt_at, lease_owner, queued_at, updated_at)
                values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                on conflict do nothing""",
                message.id(), message.workspaceId(), message.emailType(), message.envelopeFrom(),
                toJson(rejected ? message.rejected() : message.recipients()), message.subject(), message.rawMime(),
                message.rawMime().length, toJson(message.tags()), toJson(message.metadata()), message.campaignId(),
                message.userId(), message.idempotencyKey(), message.requestHash(),
                rejected ? MessageStatus.REJECTED.name() : MessageStatus.SENDING.name(), rejected ? 0 : 1,
                rejected ? null : Timestamp.from(now.toInstant().plus(worker.lease())),
                rejected ? null : store.instanceId(), Timestamp.from(message.queuedAt()), now);
        if (rows == 0) {
            return false;
        }
        if (!message.rejected().isEmpty()) {
            events.write(message.id(), message.workspaceId(), EventType.REJECT, message.rejected(), null,
                    "recipient is on the workspace's suppression list", 0, now);
        }
        return true;
    }

    private String toJson(Object value) {
        if (value == null) {
            return null;
        }
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialise " + value.getClass().getSimpleName(), e);
        }
    }
}
