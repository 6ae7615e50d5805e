package com.mailrelay.events;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Produces the event outbox to Kafka (relay.events.kafka.enabled): each event once, keyed by its
 * message id so that a message's events stay in order on one partition, as a Mandrill-format
 * JSON object. Rows are marked only after the broker acknowledged them (acks=all).
 */
@Component("eventStream")
public class EventStream {

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final ProducerTemplate producer;
    private final MandrillEvents mandrill;
    private final Clock clock;

    public EventStream(JdbcTemplate jdbc, TransactionTemplate transaction, ProducerTemplate producer,
                       MandrillEvents mandrill, Clock clock) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.producer = producer;
        this.mandrill = mandrill;
        this.clock = clock;
    }

    /** Produces one batch of events not yet streamed; returns how many. */
    public int produceBatch() {
        Integer produced = transaction.execute(tx -> {
            List<Long> ids = jdbc.queryForList("""
                    select id from events where streamed_at is null
                     order by id limit 500 for update skip locked""", Long.class);
            for (Map<String, Object> row : mandrill.rows(ids)) {
                String key = row.get("message_id").toString();
                producer.sendBodyAndHeader("direct:event-stream-produce", mandrill.write(mandrill.event(row)),
                        KafkaConstants.KEY, key);
            }
            Timestamp now = Timestamp.from(clock.instant());
            jdbc.batchUpdate("update events set streamed_at = ? where id = ?",
                    ids.stream().map(id -> new Object[] {now, id}).toList());
            return ids.size();
        });
        return produced == null ? 0 : produced;
    }
}
