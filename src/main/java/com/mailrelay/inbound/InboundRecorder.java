package com.mailrelay.inbound;

import java.sql.Timestamp;
import java.time.Clock;
import java.util.Optional;
import java.util.UUID;

import com.mailrelay.message.Addresses;
import com.mailrelay.message.Digests;
import com.mailrelay.message.EventType;
import com.mailrelay.store.EventWriter;
import com.mailrelay.store.Suppressions;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Records a verified batch in one transaction: the replay token, each event id (a retried event is
 * skipped), the suppression an event implies (hard bounce → BOUNCED, spam → COMPLAINED,
 * unsub → UNSUBSCRIBED) and, when the event names one of the workspace's messages, its event row —
 * which the webhook and Kafka routes then deliver in Mandrill's format. A failure rolls it all back,
 * so the provider's retry finds nothing half done.
 */
@Component
public class InboundRecorder {

    private static final Logger log = LoggerFactory.getLogger(InboundRecorder.class);

    /** What became of a batch's events; the response body. */
    public record Outcome(int recorded, int unlinked, int duplicates, int ignored) {
    }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate transaction;
    private final Clock clock;
    private final EventWriter events;
    private final Suppressions suppressions;
    private final InboundMessages messages;
    private final MeterRegistry meters;

    public InboundRecorder(JdbcTemplate jdbc, TransactionTemplate transaction, Clock clock, EventWriter events,
                           Suppressions suppressions, InboundMessages messages, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.transaction = transaction;
        this.clock = clock;
        this.events = events;
        this.suppressions = suppressions;
        this.messages = messages;
        this.meters = meters;
    }

    public Outcome record(InboundBatch batch) {
        Outcome outcome = transaction.execute(tx -> {
            Timestamp now = Timestamp.from(clock.instant());
            if (batch.replayToken() != null && !firstUse(batch)) {
                throw new InvalidSignatureException("this signature token was used before: a replayed request");
            }
            int recorded = 0;
            int unlinked = 0;
            int duplicates = 0;
            int ignored = 0;
            for (InboundEvent event : batch.events()) {
                switch (recordOne(batch, event, now)) {
                    case RECORDED -> recorded++;
                    case UNLINKED -> unlinked++;
                    case DUPLICATE -> duplicates++;
                    case IGNORED -> ignored++;
                }
            }
            return new Outcome(recorded, unlinked, duplicates, ignored);
        });
        count(batch, "recorded", outcome.recorded());
        count(batch, "unlinked", outcome.unlinked());
        count(batch, "duplicate", outcome.duplicates());
        count(batch, "ignored", outcome.ignored());
        log.info("{} events for workspace {}: {}", batch.provider().id(), batch.workspace(), outcome);
        return outcome;
    }

    private enum Result { RECORDED, UNLINKED, DUPLICATE, IGNORED }

    private Result recordOne(InboundBatch batch, InboundEvent event, Timestamp now) {
        if (event.type() == null) {
            return Result.IGNORED;
        }
        // The canonical form, as the relay stored and suppressed it: a provider may report
        // "Bob@X.ORG" or a Unicode domain for what was sent as bob@x.org / punycode.
        Optional<String> canonical = Addresses.canonicalOf(event.recipient());
        if (canonical.isEmpty()) {
            log.warn("{} {} event without a valid recipient ({}) ignored", batch.provider().id(),
                    event.providerEvent(), event.recipient());
            return Result.IGNORED;
        }
        if (event.eventKey() != null && !firstSeen(batch, event.eventKey(), now)) {
            return Result.DUPLICATE;
        }
        String recipient = canonical.get();
        suppress(batch, event, recipient);
        Optional<UUID> message = messages.find(batch.workspace(), event);
        if (message.isEmpty()) {
            // The recipient's suppression above still holds; the event has no message to belong to.
            log.info("{} {} event for {} names no message of workspace {} (Message-ID {}): not re-emitted",
                    batch.provider().id(), event.providerEvent(), recipient, batch.workspace(),
                    event.messageIdHeader());
            return Result.UNLINKED;
        }
        events.write(message.get(), batch.workspace(), event.type(), recipient, event.detail(), now);
        return Result.RECORDED;
    }

    private void suppress(InboundBatch batch, InboundEvent event, String recipient) {
        String reason = batch.provider().id() + " " + event.providerEvent()
                + (event.detail().get("reply") == null ? "" : ": " + event.detail().get("reply"));
        if (event.type() == EventType.HARD_BOUNCE) {
            suppressions.bounced(batch.workspace(), recipient, reason);
        } else if (event.type() == EventType.SPAM) {
            suppressions.set(batch.workspace(), recipient, Suppressions.Status.COMPLAINED, reason);
        } else if (event.type() == EventType.UNSUB) {
            suppressions.set(batch.workspace(), recipient, Suppressions.Status.UNSUBSCRIBED, reason);
        }
    }

    private boolean firstUse(InboundBatch batch) {
        return jdbc.update("""
                insert into inbound_tokens (workspace_id, provider, token, signed_at) values (?, ?, ?, ?)
                on conflict do nothing""", batch.workspace(), batch.provider().id(), batch.replayToken(),
                Timestamp.from(batch.signedAt())) == 1;
    }

    private boolean firstSeen(InboundBatch batch, String eventKey, Timestamp now) {
        String key = eventKey.length() > 255 ? Digests.sha256Hex(eventKey) : eventKey;
        return jdbc.update("""
                insert into inbound_events (workspace_id, provider, event_key, received_at) values (?, ?, ?, ?)
                on conflict do nothing""", batch.workspace(), batch.provider().id(), key, now) == 1;
    }

    /** relay_inbound_events_total{provider, workspace, outcome} on /actuator/prometheus. */
    private void count(InboundBatch batch, String outcome, int n) {
        if (n > 0) {
            meters.counter("relay.inbound.events", "provider", batch.provider().id(), "workspace", batch.workspace(),
                    "outcome", outcome).increment(n);
        }
    }
}
