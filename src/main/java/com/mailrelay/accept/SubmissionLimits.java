package com.mailrelay.accept;

import com.mailrelay.config.RelayProperties;
import com.mailrelay.message.MessageTooLargeException;
import com.mailrelay.message.Submission;
import org.springframework.stereotype.Component;

/**
 * The size limits of an accept, checked before anything is read or built for the message:
 * relay.max-message-size for the message itself, and a multiple of it for its personalised
 * copies together. A refusal is a 413 / 552 that stored nothing.
 */
@Component
public class SubmissionLimits {

    /** Personalised copies of one message may take this many times relay.max-message-size together. */
    static final int PERSONALISED_LIMIT_FACTOR = 10;

    private final RelayProperties properties;

    public SubmissionLimits(RelayProperties properties) {
        this.properties = properties;
    }

    /** The message itself fits relay.max-message-size. */
    public void check(Submission submission) {
        long limit = properties.maxMessageSize().toBytes();
        if (submission.rawMime().length > limit) {
            throw new MessageTooLargeException(submission.rawMime().length, limit);
        }
    }

    /**
     * Every copy is built in memory and stored: a large message to many recipients is refused
     * before any of that, rather than holding (size x recipients) bytes at once.
     */
    public void checkCopies(Acceptance acceptance) {
        int recipients = acceptance.envelope().recipients().size();
        long total = (long) acceptance.submission().rawMime().length * recipients;
        long limit = PERSONALISED_LIMIT_FACTOR * properties.maxMessageSize().toBytes();
        if (total > limit) {
            throw new MessageTooLargeException("personalised copies for " + recipients
                    + " recipients would take " + total + " bytes, over the limit of " + limit + " ("
                    + PERSONALISED_LIMIT_FACTOR + " x relay.max-message-size): send fewer recipients per message");
        }
    }
}
