package com.mailrelay.queue;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.store.MessageRepository;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.message.IdempotencyConflictException;
import com.mailrelay.accept.MessageAcceptor;
import com.mailrelay.accept.MessageQueue;
import com.mailrelay.message.Submission;
import com.mailrelay.store.Suppressions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Accept in Kafka mode: the records of the message (the message, or one personalised copy per
 * recipient) are produced to the queue topic, keyed by workspace, in one Kafka transaction
 * (QueueProducer), and the caller answers 202 / 250 only once it is committed: the consumers read
 * committed records only, so they get every record of the message or none. Accepting writes
 * nothing to the database: suppressions and Idempotency-Keys are only read here, and the rows are
 * written by the consumer that takes the records.
 */
@Component
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class KafkaMessageQueue implements MessageQueue {

    private static final Logger log = LoggerFactory.getLogger(KafkaMessageQueue.class);

    private final QueueProducer producer;
    private final ObjectMapper json;
    private final Suppressions suppressions;
    private final MessageRepository messages;
    private final Clock clock;

    public KafkaMessageQueue(QueueProducer producer, ObjectMapper json, Suppressions suppressions,
                             MessageRepository messages, Clock clock) {
        this.producer = producer;
        this.json = json;
        this.suppressions = suppressions;
        this.messages = messages;
        this.clock = clock;
    }

    @Override
    public List<Accepted> enqueue(List<Submission> records) {
        Instant now = clock.instant();
        List<Accepted> answers = new ArrayList<>();
        List<TopicMessage> produced = new ArrayList<>();
        for (Submission submission : records) {
            Optional<Accepted> earlier = submission.idempotencyKey() == null
                    ? Optional.empty() : earlierAcceptance(submission, now);
            if (earlier.isPresent()) {
                answers.add(earlier.get());
                continue;
            }
            Suppressions.Envelope split = suppressions.envelope(submission.workspaceId(), submission.recipients());
            TopicMessage message = new TopicMessage(submission.id(), submission.workspaceId(),
                    submission.type().id(), submission.envelopeFrom(), split.recipients(), split.rejected(),
                    submission.subject(), submission.rawMime(), submission.tags(), submission.metadata(),
                    submission.campaignId(), submission.userId(), submission.idempotencyKey(),
                    submission.requestHash(), now);
            produced.add(message);
            answers.add(new Accepted(submission.id().toString(),
                    message.allRejected() ? MessageStatus.REJECTED : MessageStatus.QUEUED, false));
        }
        if (produced.isEmpty()) {
            return answers;
        }
        // The key of every record is the workspace: one partition, in order. A fresh record: none
        // of the ingress's headers (Authorization among them) become record headers.
        producer.send(produced.get(0).workspaceId(), produced.stream().map(this::serialise).toList());
        for (TopicMessage message : produced) {
            log.info("accepted message {} workspace={} type={} recipients={} suppressed={} bytes={} status={}"
                            + " (on the topic, {} record(s) in one transaction)",
                    message.id(), message.workspaceId(), message.emailType(), message.recipients().size(),
                    message.rejected().size(), message.rawMime().length,
                    message.allRejected() ? MessageStatus.REJECTED : MessageStatus.QUEUED, produced.size());
        }
        return answers;
    }

    /**
     * An earlier message with the same key, if a consumer has already written it down. One still
     * on the topic is not seen: the consumer then keeps the first, and records the second as
     * REJECTED if its body differs (see QueueIntake).
     */
    private Optional<Accepted> earlierAcceptance(Submission submission, Instant now) {
        // The summary, not the entity: the earlier message's MIME stays in the database.
        return messages.findSummaryByIdempotencyKey(submission.workspaceId(), submission.idempotencyKey())
                .filter(earlier -> !earlier.queuedAt().isBefore(now.minus(MessageAcceptor.IDEMPOTENCY_WINDOW)))
                .map(earlier -> {
                    if (!earlier.requestHash().equals(submission.requestHash())) {
                        throw new IdempotencyConflictException(submission.idempotencyKey());
                    }
                    log.info("idempotent retry of message {} (key {})", earlier.id(), submission.idempotencyKey());
                    return new Accepted(earlier.id().toString(), earlier.status(), true);
                });
    }

    private byte[] serialise(TopicMessage message) {
        try {
            return json.writeValueAsBytes(message);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot serialise message " + message.id(), e);
        }
    }
}
