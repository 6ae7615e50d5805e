package com.mailrelay.accept;

import java.time.Clock;
import java.util.List;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.Submission;
import org.apache.camel.Body;
import org.apache.camel.ExchangeProperty;
import org.springframework.stereotype.Component;

/**
 * Whether an accept just stored a message that a worker may take now: queued (not rejected), not
 * the repeat of an earlier accept (that one already woke the queue), and not sent later than now
 * (a scheduled send is claimed at its time, by the queue's poll). The accept routes wake the
 * queue's claim only then, so a scheduled send does not cost a claim that finds nothing.
 */
@Component
public class DueNow {

    private final Clock clock;

    public DueNow(Clock clock) {
        this.clock = clock;
    }

    /** The message of a single accept. */
    public boolean stored(@ExchangeProperty(AcceptRoutes.SUBMISSION) Submission submission, @Body Accepted accepted) {
        return accepted.status() == MessageStatus.QUEUED && !accepted.duplicate()
                && (submission.sendAt() == null || !submission.sendAt().isAfter(clock.instant()));
    }

    /** Any item of a batch: each item's submission beside its answer. */
    public boolean anyStored(@ExchangeProperty(AcceptRoutes.BATCH) List<?> items, @Body List<?> answers) {
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i) instanceof Acceptance acceptance && answers.get(i) instanceof Accepted accepted
                    && stored(acceptance.submission(), accepted)) {
                return true;
            }
        }
        return false;
    }
}
