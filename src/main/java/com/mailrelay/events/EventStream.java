package com.mailrelay.events;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The steps of the Kafka event stream (relay.events.kafka.enabled; the route {@code event-stream}
 * runs them): the outbox is produced one event at a time, keyed by message id so that a message's
 * events stay in order on one partition, as Mandrill-format JSON, with the event's id in the
 * {@code relay-event-id} header and the {@code _relay_event_id} field. Each row is marked as soon
 * as the broker acknowledged it (acks=all), so a failure later in a batch never produces the
 * events before it again; no row lock is held while producing (a broker outage must not stall
 * webhooks). An event the producer or broker refuses for good (larger than
 * relay.events.kafka.max-request-size, say) is parked — marked with the reason in
 * {@code events.stream_error}, logged once — and the stream goes on. Delivery is at least once:
 * after a crash, or with several instances streaming at once, a record may come twice, and
 * consumers de-duplicate on relay-event-id.
 */
@Component("eventStream")
public class EventStream {

    /** Events read per poll; a full batch means more are waiting. */
    public static final int BATCH = 500;

    private static final Logger log = LoggerFactory.getLogger(EventStream.class);

    private final JdbcTemplate jdbc;
    private final MandrillEvents mandrill;
    private final Clock clock;

    public EventStream(JdbcTemplate jdbc, MandrillEvents mandrill, Clock clock) {
        this.jdbc = jdbc;
        this.mandrill = mandrill;
        this.clock = clock;
    }

    /** Ids of the oldest events not yet streamed (only ids: each event is loaded when it is produced). */
    public List<Long> pending() {
        return jdbc.queryForList("select id from events where streamed_at is null order by id limit " + BATCH,
                Long.class);
    }

    /** The body and headers of one event's record; an empty body when the event is gone. */
    public void record(Exchange exchange) {
        long id = exchange.getMessage().getBody(Long.class);
        Message message = exchange.getMessage();
        message.removeHeaders("*");
        List<Map<String, Object>> rows = mandrill.rows(List.of(id));
        if (rows.isEmpty()) {
            message.setBody(null);
            return;
        }
        Map<String, Object> row = rows.get(0);
        message.setHeader(KafkaConstants.KEY, row.get("message_id").toString());
        message.setHeader("relay-event-id", id);          // a Long: 8 bytes, big-endian, as before
        message.setBody(mandrill.write(mandrill.event(row)));
    }

    /** The broker acknowledged the event's record. */
    public void streamed(long id) {
        jdbc.update("update events set streamed_at = ? where id = ? and streamed_at is null",
                Timestamp.from(clock.instant()), id);
    }

    /** The event cannot be produced, ever: it is parked with the reason, and the stream moves on. */
    public void park(long id, Exception error) {
        String reason = error.getClass().getSimpleName() + ": " + error.getMessage();
        int parked = jdbc.update("update events set streamed_at = ?, stream_error = ? where id = ? and streamed_at is null",
                Timestamp.from(clock.instant()), reason, id);
        if (parked == 1) {
            log.warn("event stream: event {} parked, not produced: {}", id, reason);
        }
    }
}
