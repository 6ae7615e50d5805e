package com.mailrelay.accept;

import java.util.List;
import java.util.UUID;

import com.mailrelay.message.Submission;
import com.mailrelay.store.Suppressions.Envelope;
import com.mailrelay.tracking.Personalizer;

/**
 * What the accept route carries from step to step: the submission and, when it is personalised,
 * the suppression split read for it and the copy of each recipient left.
 *
 * @param envelope the suppression split, read before the copies are built; null when not personalised
 * @param copies   one per recipient not suppressed, the first keeping the submission's id; empty
 *                 when the submission is stored as it is (not personalised, or every recipient suppressed)
 */
public record Acceptance(Submission submission, Envelope envelope, List<Copy> copies) {

    /** One recipient's row-to-be: its id and its own MIME. */
    public record Copy(UUID id, String recipient, Personalizer.Copy content) {
    }

    /** A submission as it arrives: nothing read or built for it yet. */
    public static Acceptance of(Submission submission) {
        return new Acceptance(submission, null, List.of());
    }

    /** Whether the submission goes out as one copy per recipient. */
    public boolean personalised() {
        return !copies.isEmpty();
    }

    Acceptance withEnvelope(Envelope split) {
        return new Acceptance(submission, split, copies);
    }

    Acceptance withCopies(List<Copy> built) {
        return new Acceptance(submission, envelope, List.copyOf(built));
    }
}
