package com.mailrelay.message;

/** A recipient's names from the workspace's recipient list (either may be null), for personalisation. */
public record RecipientNames(String firstName, String lastName) {

    public static final RecipientNames NONE = new RecipientNames(null, null);
}
