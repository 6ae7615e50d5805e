package com.mailrelay.queue;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.Json;
import com.mailrelay.message.LimitHold;
import com.mailrelay.message.RelayHeaders;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Submission;
import com.mailrelay.store.Idempotency;
import com.mailrelay.store.Suppressions;
import com.mailrelay.workspace.PriorityLevels;
import org.apache.camel.Body;
import org.apache.camel.ExchangeProperty;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Accept in Kafka mode, the two steps of accept-kafka: each record of the message (the message,
 * or one personalised copy per recipient) becomes a topic record ({@link #record}), and then all of
 * them are produced to the queue topic, keyed by workspace, in one Kafka transaction
 * ({@link #send}, QueueProducer). The caller answers 202 / 250 only once it is committed: the
 * consumers read committed records only, so they get every record of the message or none.
 * Accepting writes nothing to the database: suppressions and Idempotency-Keys are only read here,
 * and the rows are written by the consumer that takes the records (QueueIntake).
 */
@Component("kafkaAccept")
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class KafkaAccept {

    private static final Logger log = LoggerFactory.getLogger(KafkaAccept.class);

    private final QueueProducer producer;
    private final Suppressions suppressions;
    private final Idempotency idempotency;
    private final Clock clock;
    private final PriorityLevels priorities;

    public KafkaAccept(QueueProducer producer, Suppressions suppressions,
                       Idempotency idempotency, Clock clock, PriorityLevels priorities) {
        this.producer = producer;
        this.suppressions = suppressions;
        this.idempotency = idempotency;
        this.clock = clock;
        this.priorities = priorities;
    }

    /**
     * One record's part of the accept: what goes to the topic, or nothing when its Idempotency-Key
     * names an earlier message already written down (then its answer is that message's).
     *
     * @param message the record to produce; null for a repeat of an earlier request
     */
    public record TopicRecord(TopicMessage message, Accepted answer) {
    }

    /**
     * The record of one submission, its suppressed recipients split off. An earlier message with
     * the same key counts only once a consumer has written it down: one still on the topic is not
     * seen, and the consumer then keeps the first, and records the second as REJECTED if its body
     * differs (see QueueIntake).
     */
    public TopicRecord record(@Body Submission submission, @ExchangeProperty(RelayHeaders.LIMIT_HOLD) LimitHold hold) {
        Instant now = clock.instant();
        var earlier = idempotency.find(submission.workspaceId(), submission.idempotencyKey(),
                submission.requestHash(), now);
        if (earlier.isPresent()) {
            return new TopicRecord(null, idempotency.answer(earlier.get(), submission.idempotencyKey()));
        }
        Suppressions.Envelope split = suppressions.envelope(submission.workspaceId(), submission.recipients());
        TopicMessage message = new TopicMessage(submission.id(), submission.workspaceId(),
                submission.type().id(), submission.envelopeFrom(), split.recipients(), split.rejected(),
                submission.subject(), submission.rawMime(), submission.tags(), submission.metadata(),
                submission.campaignId(), submission.userId(), submission.idempotencyKey(),
                submission.requestHash(), now, submission.providerOverride(), submission.sendAt(),
                priorities.level(submission.workspaceId(), submission.type(), submission.priority()),
                hold == null ? null : hold.until(), hold == null ? null : hold.reason());
        return new TopicRecord(message, new Accepted(submission.id().toString(),
                message.allRejected() ? MessageStatus.REJECTED : MessageStatus.QUEUED, false));
    }

    /**
     * Produces the new records of one message in one Kafka transaction and returns once it is
     * committed, with one answer per record in their order. Any failure means none of them is
     * kept, and is answered like a database failure (503 / 451).
     */
    public List<Accepted> send(List<TopicRecord> records) {
        List<TopicMessage> produced = records.stream().map(TopicRecord::message).filter(Objects::nonNull).toList();
        if (!produced.isEmpty()) {
            // The key of every record is the workspace: one partition, in order. A fresh record: none
            // of the ingress's headers (Authorization among them) become record headers.
            producer.send(produced.get(0).workspaceId(), produced.stream().map(KafkaAccept::serialised).toList());
            for (TopicMessage message : produced) {
                log.info("accepted message {} workspace={} type={} recipients={} suppressed={} bytes={} status={}"
                                + " (on the topic, {} record(s) in one transaction)",
                        message.id(), message.workspaceId(), message.emailType(), message.recipients().size(),
                        message.rejected().size(), message.rawMime().length,
                        message.allRejected() ? MessageStatus.REJECTED : MessageStatus.QUEUED, produced.size());
            }
        }
        return records.stream().map(TopicRecord::answer).toList();
    }

    /** The record's value: the message as JSON (read back by QueueIntake). */
    private static byte[] serialised(TopicMessage message) {
        return Json.write(message).getBytes(StandardCharsets.UTF_8);
    }
}
