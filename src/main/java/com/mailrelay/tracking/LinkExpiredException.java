package com.mailrelay.tracking;

/** A tracking or unsubscribe link of ours whose time is over (relay.tracking.token-lifetime): 410, nothing recorded. */
public class LinkExpiredException extends RuntimeException {

    public LinkExpiredException(String message) {
        super(message);
    }
}
