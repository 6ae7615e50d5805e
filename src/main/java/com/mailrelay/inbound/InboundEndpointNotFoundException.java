package com.mailrelay.inbound;

/** No such workspace, or no key configured for this provider in it: HTTP 404. */
public class InboundEndpointNotFoundException extends RuntimeException {
    public InboundEndpointNotFoundException(String message) {
        super(message);
    }
}
