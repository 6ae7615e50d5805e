package com.mailrelay.inbound;

import com.mailrelay.message.Refusal;

/** No such workspace, or no key configured for this provider in it: HTTP 404. */
public class InboundEndpointNotFoundException extends Refusal {
    public InboundEndpointNotFoundException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 404;
    }

    @Override
    public String code() {
        return "not_found";
    }
}
