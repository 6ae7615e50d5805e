package com.mailrelay.accept;

import java.util.List;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.Submission;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.camel.Body;
import org.apache.camel.ExchangeProperty;
import org.springframework.stereotype.Component;

/**
 * relay_accepted_total{workspace, type}: counted once the message is kept, like the 202 / 250 —
 * not for a repeat of an earlier request (Idempotency-Key), not for a refusal.
 */
@Component
public class AcceptedCount {

    private final MeterRegistry meters;

    public AcceptedCount(MeterRegistry meters) {
        this.meters = meters;
    }

    public void count(@ExchangeProperty(AcceptRoutes.SUBMISSION) Submission submission, @Body Accepted accepted) {
        if (!accepted.duplicate()) {
            meters.counter("relay.accepted", "workspace", submission.workspaceId(),
                    "type", submission.type().id()).increment();
        }
    }

    /** Each item of a batch that was kept, as if it had come alone. */
    public void countAll(@ExchangeProperty(AcceptRoutes.BATCH) List<?> items, @Body List<?> answers) {
        for (int i = 0; i < items.size(); i++) {
            if (items.get(i) instanceof Acceptance acceptance && answers.get(i) instanceof Accepted accepted) {
                count(acceptance.submission(), accepted);
            }
        }
    }
}
