package com.mailrelay.events;

import org.apache.camel.builder.RouteBuilder;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * The optional Kafka event stream: {@code event-stream} takes the ids of the oldest unstreamed
 * events and produces them one by one through {@code event-stream-produce} (an idempotent producer
 * with acks=all), marking each once acknowledged (see {@link EventStream}). A record refused for
 * good is parked and the split goes on; any other failure (the broker is away) stops the batch
 * there, and the next poll resumes at that event, so per-message order holds.
 * <p>
 * A poll is started by a wake-up on {@link #WAKE}: from {@code events-written} right after a state
 * change committed new events, from {@code event-stream-poll} (the scheduler, the backstop), and
 * from a poll whose batch was full (more are waiting). {@code event-stream} is that queue's one
 * consumer, so no two polls ever run at once and each reads what the one before left, in id order.
 * The queue holds one wake-up: more that come while one waits are dropped, because the waiting one
 * will read their events too (it polls after they were committed); one that comes while a poll runs
 * waits, so events committed during a poll are never missed.
 */
@Component
@ConditionalOnProperty(name = "relay.events.kafka.enabled", havingValue = "true")
public class EventStreamRoutes extends RouteBuilder {

    static final String EVENT_ID = "relayEventId";
    /** The poll's queue: one waiting wake-up at most, one consumer (used as is by producers and the consumer). */
    static final String WAKE = "seda:event-stream?size=1&discardWhenFull=true";

    @Override
    public void configure() {
        from("scheduler:event-stream?delay={{relay.events.kafka.poll-delay:500}}")
                .routeId("event-stream-poll")
                .to(WAKE);

        // One consumer, synchronous: a poll ends when its batch is done, so no two polls produce the
        // same events; and each record is acknowledged (in this thread, not Kafka's) before its row is marked.
        from(WAKE).routeId("event-stream")
                .setBody(method("eventStream", "pending"))
                .split(body()).stopOnException()
                    .to("direct:event-stream-produce")
                .end()
                // A full batch means more are waiting: poll again at once.
                .filter(simple("${body.size()} >= " + EventStream.BATCH))
                    .to(WAKE)
                .end();

        // Like the delivery routes, these pass failures to their caller (no error handler): what
        // parks an event is the doCatch here, and anything else stops the split.
        from("direct:event-stream-produce").routeId("event-stream-produce")
                .setProperty(EVENT_ID, body())
                .doTry()
                    .bean("eventStream", "record")
                    .filter(body().isNotNull())
                        .to("kafka:{{relay.events.kafka.topic:relay-events}}?brokers={{relay.events.kafka.brokers}}"
                                + "&requestRequiredAcks=all&enableIdempotence=true&synchronous=true"
                                + "&maxRequestSize={{relay.events.kafka.max-request-size:1048576}}")
                        .id("event-stream-kafka")
                        .bean("eventStream", "streamed(${exchangeProperty." + EVENT_ID + "})")
                    .endDoTry()
                // Refusals that no retry changes: the record is too large, or cannot be serialised.
                .doCatch(RecordTooLargeException.class, RecordBatchTooLargeException.class,
                        SerializationException.class, InvalidTopicException.class)
                    .bean("eventStream", "park(${exchangeProperty." + EVENT_ID + "}, ${exception})")
                .end();
    }
}
