package com.mailrelay.message;

/** Event names as Mandrill's webhooks use them, so that existing receivers understand them. */
public enum EventType {
    SEND("send"),
    DEFERRAL("deferral"),
    SOFT_BOUNCE("soft_bounce"),
    HARD_BOUNCE("hard_bounce"),
    REJECT("reject"),
    OPEN("open"),
    CLICK("click"),
    UNSUB("unsub"),
    SPAM("spam");

    private final String id;

    EventType(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }
}
