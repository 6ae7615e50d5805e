package com.mailrelay.accept;

import java.time.Clock;

import com.mailrelay.message.LimitHold;
import com.mailrelay.message.Submission;
import com.mailrelay.ratelimit.RateLimits;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The rate limit of an accept that writes nothing else to the database (Kafka mode): counted in a
 * transaction of its own, before the message goes to the topic. A workspace without a limit
 * costs nothing ({@link #applies}). In database mode the count is part of the accept's own unit of
 * work instead (DatabaseAccept).
 */
@Component
public class AloneRateLimit {

    private final RateLimits rateLimits;
    private final TransactionTemplate transaction;
    private final Clock clock;

    public AloneRateLimit(RateLimits rateLimits, TransactionTemplate transaction, Clock clock) {
        this.rateLimits = rateLimits;
        this.transaction = transaction;
        this.clock = clock;
    }

    /** Whether the submission's workspace has a limit to count against. */
    public boolean applies(Acceptance acceptance) {
        return rateLimits.limited(acceptance.submission().workspaceId());
    }

    /**
     * Counts the message, or throws RateLimitedException (429 / 451) having counted nothing.
     *
     * @return the hold of a soft limit (its records carry it to their rows), or null
     */
    public LimitHold take(Acceptance acceptance) {
        Submission submission = acceptance.submission();
        return transaction.execute(tx -> rateLimits.take(submission.workspaceId(), submission.userId(),
                clock.instant(), submission.sendAt()));
    }
}
