package com.mailrelay.events;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * The optional Kafka event stream: {@code event-stream} drains the outbox into
 * relay.events.kafka.topic through an idempotent producer with acks=all.
 */
@Component
@ConditionalOnProperty(name = "relay.events.kafka.enabled", havingValue = "true")
public class EventStreamRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("scheduler:event-stream?delay={{relay.events.kafka.poll-delay:500}}&greedy=true")
                .routeId("event-stream")
                .setBody(method("eventStream", "produceBatch"))
                // A full batch means more are waiting: the greedy scheduler polls again at once.
                .setProperty(Exchange.SCHEDULER_POLLED_MESSAGES, simple("${body} >= 500"));

        from("direct:event-stream-produce").routeId("event-stream-produce")
                .to("kafka:{{relay.events.kafka.topic:relay-events}}?brokers={{relay.events.kafka.brokers}}"
                        + "&requestRequiredAcks=all&enableIdempotence=true")
                .id("event-stream-kafka");
    }
}
