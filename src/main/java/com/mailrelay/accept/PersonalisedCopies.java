package com.mailrelay.accept;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

import com.mailrelay.message.Accepted;
import com.mailrelay.message.Digests;
import com.mailrelay.message.MergeData;
import com.mailrelay.message.MessageIds;
import com.mailrelay.message.MessageStatus;
import com.mailrelay.message.RecipientContent;
import com.mailrelay.message.RecipientNames;
import com.mailrelay.message.Submission;
import com.mailrelay.store.Suppressions;
import com.mailrelay.tracking.Personalizer;
import org.apache.camel.Body;
import org.apache.camel.ExchangeProperty;
import org.springframework.stereotype.Component;

/**
 * Tracking, unsubscribe links and variables differ per recipient, so a personalised submission
 * becomes one copy (a row, or a topic record, with its own MIME) per recipient not suppressed.
 * The copies are built before any transaction: their MIME work must not hold up a commit that
 * other clients are waiting on. The first copy keeps the submission's id.
 */
@Component
public class PersonalisedCopies {

    private final Personalizer personalizer;
    private final Suppressions suppressions;
    private final Clock clock;

    public PersonalisedCopies(Personalizer personalizer, Suppressions suppressions, Clock clock) {
        this.personalizer = personalizer;
        this.suppressions = suppressions;
        this.clock = clock;
    }

    /**
     * Whether the submission becomes a copy per recipient: it brings content of each recipient's
     * own (a rendered template), or the workspace personalises it (tracking, unsubscribe links, variables).
     */
    public boolean applies(Acceptance acceptance) {
        return acceptance.submission().content() != null || personalizer.applies(acceptance.submission());
    }

    /**
     * Who gets a copy: the suppression split, read just before the transaction, like any accept
     * a moment earlier.
     */
    public Acceptance recipients(Acceptance acceptance) {
        Submission submission = acceptance.submission();
        return acceptance.withEnvelope(suppressions.envelope(submission.workspaceId(), submission.recipients()));
    }

    /**
     * The copy of every recipient left. None when every recipient is suppressed: the message is
     * then stored REJECTED as it is, like one not personalised.
     */
    public Acceptance build(Acceptance acceptance) {
        List<String> recipients = acceptance.envelope().recipients();
        if (recipients.isEmpty()) {
            return acceptance;
        }
        Submission submission = acceptance.submission();
        Instant now = clock.instant();
        Map<String, RecipientNames> names = suppressions.names(submission.workspaceId(), recipients);
        List<Acceptance.Copy> copies = new ArrayList<>();
        for (String recipient : recipients) {
            UUID id = copies.isEmpty() ? submission.id() : MessageIds.next();
            copies.add(new Acceptance.Copy(id, recipient, personalizer.personalize(ownContent(submission, recipient),
                    id, recipient, names.getOrDefault(recipient.toLowerCase(Locale.ROOT), RecipientNames.NONE), now)));
        }
        return acceptance.withCopies(copies);
    }

    /**
     * The submission as this recipient's copy starts: with the recipient's own content when it
     * brings some (its subject and MIME), then personalised like any copy.
     */
    private static Submission ownContent(Submission submission, String recipient) {
        if (submission.content() == null) {
            return submission;
        }
        RecipientContent.Rendered own = submission.content().render(recipient);
        return new Submission(submission.id(), submission.workspaceId(), submission.type(),
                submission.envelopeFrom(), submission.recipients(), own.subject(), own.mime(), submission.tags(),
                submission.metadata(), submission.campaignId(), submission.userId(), submission.idempotencyKey(),
                submission.requestHash(), submission.merge(), submission.providerOverride(), submission.priority(),
                submission.sendAt(), null);
    }

    /**
     * The topic records of a message: the submission itself, or each recipient's copy. Each copy
     * is a record of its own, so each carries an Idempotency-Key of its own, derived from the
     * client's; the suppressed recipients ride along with the first copy (the queue's intake
     * turns them into reject events).
     */
    public List<Submission> records(Acceptance acceptance) {
        Submission submission = acceptance.submission();
        if (!acceptance.personalised()) {
            return List.of(submission);
        }
        List<Submission> records = new ArrayList<>();
        for (int i = 0; i < acceptance.copies().size(); i++) {
            Acceptance.Copy copy = acceptance.copies().get(i);
            List<String> recipients = new ArrayList<>(List.of(copy.recipient()));
            if (i == 0) {
                recipients.addAll(acceptance.envelope().rejected());
            }
            records.add(new Submission(copy.id(), submission.workspaceId(), submission.type(),
                    submission.envelopeFrom(), List.copyOf(recipients), copy.content().subject(),
                    copy.content().mime(), submission.tags(), submission.metadata(), submission.campaignId(),
                    submission.userId(), copyKey(submission.idempotencyKey(), i), submission.requestHash(),
                    MergeData.NONE, submission.providerOverride(), submission.priority(), submission.sendAt(), null));
        }
        return records;
    }

    /**
     * One answer for the records' answers (in their order): the message's own, or, for copies,
     * the first copy's id with a part per recipient — a duplicate only when every copy was.
     */
    public Accepted accepted(@ExchangeProperty(AcceptRoutes.ACCEPTANCE) Acceptance acceptance,
                             @Body List<Accepted> answers) {
        if (!acceptance.personalised()) {
            return answers.get(0);
        }
        List<Accepted.Part> parts = new ArrayList<>();
        boolean allDuplicates = true;
        for (int i = 0; i < answers.size(); i++) {
            Accepted one = answers.get(i);
            allDuplicates &= one.duplicate();
            parts.add(new Accepted.Part(one.id(), acceptance.copies().get(i).recipient(), one.status()));
        }
        return new Accepted(parts.get(0).id(), MessageStatus.QUEUED, allDuplicates, parts);
    }

    /** The first copy keeps the client's key; the others get one derived from it (fitting the column). */
    static String copyKey(String key, int copy) {
        return key == null || copy == 0 ? key : Digests.sha256Hex(key + "#" + copy);
    }
}
