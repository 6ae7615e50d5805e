package com.mailrelay.accept;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.RelayHeaders;
import org.apache.camel.builder.PredicateBuilder;
import org.apache.camel.builder.RouteBuilder;
import org.springframework.stereotype.Component;

/**
 * The one accept path of both ingresses, {@code direct:accept}: a Submission in, a
 * message.Accepted out once the message is durably kept — in the database queue
 * ({@code accept-database}) or on the Kafka queue's topic ({@code accept-kafka}, with
 * {@code relay.queue: kafka}). Refusals are exceptions that carry their own answer (413, 422,
 * 429 / 552, 550, 451), mapped by each ingress; none of them leaves anything stored.
 * <p>
 * The body between the steps is an {@link Acceptance}: the submission and its personalised copies.
 * The beans compute; which step comes next is decided here.
 * <p>
 * Once the database queue's commit is done, a message due now ({@link DueNow}) wakes the queue's
 * claim ({@code direct:queue-wake}, queue/QueueRoutes): it is delivered in milliseconds instead of
 * at the next poll. The wake-up is an offer to a queue that holds one, dropped when one waits
 * already, so the answer never waits for it; and it comes after the commit, so the claim it starts
 * finds the row. A scheduled send wakes nothing: the poll claims it at its time.
 */
@Component
public class AcceptRoutes extends RouteBuilder {

    /** The exchange property holding the submission while the body becomes its answer. */
    public static final String SUBMISSION = "relaySubmission";
    /** The exchange property holding the acceptance while accept-kafka splits it into records. */
    static final String ACCEPTANCE = "relayAcceptance";
    /** The exchange property holding a batch's items while the body becomes their answers. */
    static final String BATCH = "relayBatch";
    /** The bean of the LLM personalisation step (llm/), named rather than imported: a feature of its own. */
    private static final String LLM = "llmPersonalisation";
    /**
     * The database queue's wake-up (queue/QueueRoutes), sent only after the commit: a hint that a
     * message is due, one offer to a queue that holds one and drops the rest, never waited on.
     */
    private static final String QUEUE_WAKE = "direct:queue-wake";

    private final SubmissionLimits limits;
    private final PersonalisedCopies copies;
    private final DatabaseAccept database;
    private final AloneRateLimit rateLimit;
    private final AcceptedCount accepted;
    private final DueNow dueNow;
    private final boolean kafka;

    public AcceptRoutes(SubmissionLimits limits, PersonalisedCopies copies, DatabaseAccept database,
                        AloneRateLimit rateLimit, AcceptedCount accepted, DueNow dueNow,
                        RelayProperties properties) {
        this.limits = limits;
        this.copies = copies;
        this.database = database;
        this.rateLimit = rateLimit;
        this.accepted = accepted;
        this.dueNow = dueNow;
        this.kafka = properties.queue() == RelayProperties.QueueMode.KAFKA;
    }

    @Override
    public void configure() {
        from("direct:accept").routeId("accept")
                .to("direct:accept-steps")
                // relay.queue is bound to an enum, case-insensitively: so is this test.
                .choice().when(simple("'{{relay.queue:database}}' =~ 'kafka'"))
                    .to("direct:accept-kafka")
                .otherwise()
                    .to("direct:accept-database")
                    // Committed: the queue claims it now instead of at its next poll.
                    .filter(method(dueNow, "stored"))
                        .to(QUEUE_WAKE)
                    .end()
                .end()
                .bean(accepted, "count");

        // What a message goes through before it is kept, alone (direct:accept) or as an item of a
        // batch (direct:accept-batch): its size, and its personalised copies. Submission in,
        // Acceptance out.
        from("direct:accept-steps").routeId("accept-steps")
                .bean(limits, "check")
                .setProperty(SUBMISSION, body())
                .bean(Acceptance.class, "of")
                // LLM placeholders of the workspace's (llm/) also make a copy per recipient.
                .choice().when(PredicateBuilder.or(method(copies, "applies"), method(LLM, "wanted")))
                    // Tracking, unsubscribe links or variables: a copy per recipient, built before
                    // any transaction (the suppression split they need is read just before it).
                    .bean(copies, "recipients")
                    .bean(limits, "checkCopies")
                    .bean(copies, "build")
                .end()
                // <<NAME>> placeholders filled by the workspace's model, each within the timeout
                // and else by its fallback text: before the message is stored, never refusing it.
                .filter(method(LLM, "applies"))
                    .to("direct:llm-personalise")
                .end();

        // A batch request's items, each an Acceptance (through accept-steps) or the Refusal that
        // answers it: every accepted one stored in ONE transaction, each answered on its own (an
        // Accepted or a Refusal, in the items' order). Database queue only: the batch's ingress
        // refuses it in Kafka mode.
        from("direct:accept-batch").routeId("accept-batch")
                .setProperty(BATCH, body())
                .bean(database, "storeAll")
                .filter(method(dueNow, "anyStored"))
                    .to(QUEUE_WAKE)
                .end()
                .bean(accepted, "countAll");

        // Idempotency-Key, rate limit, suppression split, the row(s) and their reject events are one
        // unit of work in one group commit (shared with concurrent accepts), not steps of their own:
        // a refused rate limit or a reused key must leave no row, and a rate count no message.
        from("direct:accept-database").routeId("accept-database")
                .bean(database, "store");

        if (kafka) {
            configureKafka();
        }
    }

    /**
     * Kafka mode: accepting writes nothing to the database but the rate count; the rows are
     * written by the consumer that takes the records (queue.QueueIntake). The queue's beans
     * (queue.KafkaAccept) exist only in this mode, so this route does too.
     */
    private void configureKafka() {
        from("direct:accept-kafka").routeId("accept-kafka")
                .filter(method(rateLimit, "applies"))
                    // Over a soft limit: the hold every record of the message carries to its row.
                    .setProperty(RelayHeaders.LIMIT_HOLD, method(rateLimit, "take"))
                .end()
                .setProperty(ACCEPTANCE, body())
                // The message, or each recipient's copy: a topic record each (an earlier
                // acceptance of its Idempotency-Key instead, if there is one).
                .split(method(copies, "records"), new InOrder())
                    .bean("kafkaAccept", "record")
                .end()
                // ONE Kafka transaction for all the records of the message, not one send per record:
                // the consumers read committed records only, so a failure part-way leaves none of
                // them to be delivered (never the first copies of a message whose third failed),
                // and a client's retry finds either all or none of them taken.
                .bean("kafkaAccept", "send")
                .bean(copies, "accepted");
    }
}
