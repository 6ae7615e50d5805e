package com.mailrelay.accept;

import java.util.List;
import java.util.UUID;

import com.mailrelay.message.PersonalisedMessage;
import com.mailrelay.message.RecipientContent;
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
public record Acceptance(Submission submission, Envelope envelope, List<Copy> copies) implements PersonalisedMessage {

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

    @Override
    public List<String> copyRecipients() {
        return copies.stream().map(Copy::recipient).toList();
    }

    @Override
    public List<RecipientContent.Rendered> copyContents() {
        return copies.stream().map(c -> new RecipientContent.Rendered(c.content().subject(), c.content().mime())).toList();
    }

    /** The same copies (ids and recipients) with their content replaced, e.g. placeholders filled. */
    @Override
    public Acceptance withCopyContents(List<RecipientContent.Rendered> contents) {
        if (contents.size() != copies.size()) {
            throw new IllegalArgumentException(contents.size() + " contents for " + copies.size() + " copies");
        }
        List<Copy> changed = new java.util.ArrayList<>();
        for (int i = 0; i < copies.size(); i++) {
            Copy copy = copies.get(i);
            RecipientContent.Rendered content = contents.get(i);
            changed.add(new Copy(copy.id(), copy.recipient(), new Personalizer.Copy(content.mime(), content.subject())));
        }
        return withCopies(changed);
    }

    Acceptance withEnvelope(Envelope split) {
        return new Acceptance(submission, split, copies);
    }

    Acceptance withCopies(List<Copy> built) {
        return new Acceptance(submission, envelope, List.copyOf(built));
    }
}
