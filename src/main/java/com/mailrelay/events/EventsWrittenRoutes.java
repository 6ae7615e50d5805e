package com.mailrelay.events;

import com.mailrelay.message.RelayHeaders;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * The outbox's wake-up. A state change and its event rows commit together (the rows are the
 * durable record); right after the commit, the route that made the change wire-taps
 * {@code direct:events-written} with the workspace in the {@code relayWorkspace} header, and the
 * new events go out at once instead of at the next poll: the workspace is offered to the webhook
 * queue ({@code webhook-offer}: at most one waiting entry per workspace) and, with the Kafka stream
 * enabled, the stream is woken ({@code event-stream}: one poll at a time, in id order). Nothing is
 * handed over here but a hint to look: whatever a wake-up misses (a crash between the commit and
 * the tap, a failed offer, a stage that writes events without tapping) the pollers still find.
 */
@Component
public class EventsWrittenRoutes extends RouteBuilder {

    @Override
    public void configure() {
        from("direct:events-written").routeId("events-written")
                .setBody(header(RelayHeaders.WORKSPACE))
                .filter(simple("{{relay.webhooks.enabled:true}}"))
                    .to("direct:webhook-offer")
                .end()
                .filter(simple("{{relay.events.kafka.enabled:false}}"))
                    .to(EventStreamRoutes.WAKE)
                .end();
    }
}
