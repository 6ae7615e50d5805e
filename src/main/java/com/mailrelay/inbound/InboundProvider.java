package com.mailrelay.inbound;

/** The providers whose event webhooks the relay takes; the id is the last path segment and the stored name. */
public enum InboundProvider {
    MAILGUN("mailgun"),
    SENDGRID("sendgrid");

    private final String id;

    InboundProvider(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }
}
