package com.mailrelay.tracking;

/** A tracking or unsubscribe link that is not one of ours (tampered, truncated, or naming no message): 404. */
public class LinkNotFoundException extends RuntimeException {

    public LinkNotFoundException(String message) {
        super(message);
    }
}
