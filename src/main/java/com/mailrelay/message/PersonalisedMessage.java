package com.mailrelay.message;

import java.util.List;

/**
 * A submission on its way through the accept path and, when it goes out as one copy per
 * recipient, those copies: what a step that changes each recipient's content sees of it (the
 * accept path's own carrier, accept.Acceptance, implements it), without depending on that path.
 */
public interface PersonalisedMessage {

    Submission submission();

    /** The recipient of each copy, in order; empty when the submission is stored as it is. */
    List<String> copyRecipients();

    /** Each copy's subject and MIME, in the order of {@link #copyRecipients()}. */
    List<RecipientContent.Rendered> copyContents();

    /** This message with each copy's content replaced (same order and number as {@link #copyContents()}). */
    PersonalisedMessage withCopyContents(List<RecipientContent.Rendered> contents);
}
