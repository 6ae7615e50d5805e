package com.mailrelay.events;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Produces the event outbox to Kafka (relay.events.kafka.enabled), keyed by message id so that a
 * message's events stay in order on one partition, as Mandrill-format JSON, with the event's id in
 * the {@code relay-event-id} header. Rows are marked only after the broker acknowledged them
 * (acks=all), and no row lock is held while producing (a broker outage must not stall webhooks):
 * delivery is at least once — after a crash, or with several instances streaming at once, a
 * record may come twice, and consumers de-duplicate on relay-event-id.
 */
@Component("eventStream")
public class EventStream {

    private final JdbcTemplate jdbc;
    private final ProducerTemplate producer;
    private final MandrillEvents mandrill;
    private final Clock clock;

    public EventStream(JdbcTemplate jdbc, ProducerTemplate producer, MandrillEvents mandrill, Clock clock) {
        this.jdbc = jdbc;
        this.producer = producer;
        this.mandrill = mandrill;
        this.clock = clock;
    }

    /** Produces one batch of events not yet streamed; returns how many. */
    public int produceBatch() {
        List<Long> ids = jdbc.queryForList(
                "select id from events where streamed_at is null order by id limit 500", Long.class);
        for (Map<String, Object> row : mandrill.rows(ids)) {
            producer.sendBodyAndHeaders("direct:event-stream-produce", mandrill.write(mandrill.event(row)),
                    Map.of(KafkaConstants.KEY, row.get("message_id").toString(), "relay-event-id", row.get("id")));
        }
        Timestamp now = Timestamp.from(clock.instant());
        jdbc.batchUpdate("update events set streamed_at = ? where id = ? and streamed_at is null",
                ids.stream().map(id -> new Object[] {now, id}).toList());
        return ids.size();
    }
}
