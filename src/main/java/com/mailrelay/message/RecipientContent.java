package com.mailrelay.message;

/**
 * Content made for each recipient of a submission, before tracking, unsubscribe links and
 * variables are applied to it: a stored template rendered with the recipient's data, for example.
 * A submission that has one is stored as one copy per recipient (accept.PersonalisedCopies).
 */
public interface RecipientContent {

    /** The subject and the MIME message for {@code recipient} (as the envelope names it). */
    Rendered render(String recipient);

    /** One recipient's subject and MIME bytes. */
    record Rendered(String subject, byte[] mime) {
    }
}
