package com.mailrelay.queue;

import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.mailrelay.accept.IdempotencyConflictException;
import com.mailrelay.accept.MessageAcceptor;
import com.mailrelay.accept.MessageAcceptor.Accepted;
import com.mailrelay.accept.MessageQueue;
import com.mailrelay.accept.Submission;
import com.mailrelay.recipients.Suppressions;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.kafka.KafkaConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.stereotype.Component;

/**
 * Accept in Kafka mode: the message is produced to the queue topic, keyed by workspace, and the
 * caller answers 202 / 250 only once the broker has acknowledged it (acks=all, idempotent
 * producer; see KafkaQueueRoutes). Accepting writes nothing to the database: suppressions and
 * Idempotency-Keys are only read here, and the row is written by the consumer that takes it.
 */
@Component
@ConditionalOnProperty(name = "relay.queue", havingValue = "kafka")
public class KafkaMessageQueue implements MessageQueue {

    private static final Logger log = LoggerFactory.getLogger(KafkaMessageQueue.class);

    private final ProducerTemplate producer;
    private final ObjectMapper json;
    private final Suppressions suppressions;
    private final MessageRepository messages;
    private final Clock clock;

    public KafkaMessageQueue(ProducerTemplate producer, ObjectMapper json, Suppressions suppressions,
                             MessageRepository messages, Clock clock) {
        this.producer = producer;
        this.json = json;
        this.suppressions = suppressions;
        this.messages = messages;
        this.clock = clock;
    }

    @Override
    public Accepted enqueue(Submission submission) {
        Instant now = clock.instant();
        if (submission.idempotencyKey() != null) {
            Optional<Accepted> earlier = earlierAcceptance(submission, now);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        Suppressions.Envelope split = suppressions.envelope(submission.workspaceId(), submission.recipients());
        List<String> envelope = split.recipients();
        List<String> rejected = split.rejected();
        TopicMessage message = new TopicMessage(submission.id(), submission.workspaceId(), submission.type().id(),
                submission.envelopeFrom(), envelope, rejected, submission.subject(), submission.rawMime(),
                submission.tags(), submission.metadata(), submission.campaignId(), submission.userId(),
                submission.idempotencyKey(), submission.requestHash(), now);
        // A fresh exchange: none of the ingress's headers (Authorization among them) become record headers.
        producer.sendBodyAndHeader(KafkaQueueRoutes.PUBLISH, serialise(message), KafkaConstants.KEY,
                submission.workspaceId());
        MessageStatus status = message.allRejected() ? MessageStatus.REJECTED : MessageStatus.QUEUED;
        log.info("accepted message {} workspace={} type={} recipients={} suppressed={} bytes={} status={} (on the topic)",
                submission.id(), submission.workspaceId(), submission.type().id(), envelope.size(), rejected.size(),
                submission.rawMime().length, status);
        return new Accepted(submission.id().toString(), status, false);
    }

    /**
     * An earlier message with the same key, if a consumer has already written it down. One still
     * on the topic is not seen: the consumer then keeps the first and drops the second (see QueueIntake).
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
