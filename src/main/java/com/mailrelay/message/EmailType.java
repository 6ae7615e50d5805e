package com.mailrelay.message;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The kinds of mail the router distinguishes; their lower-case names appear in routes and the API. */
public enum EmailType {
    TRANSACTIONAL, MARKETING, SYSTEM, NOTIFICATION;

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<EmailType> fromId(String id) {
        return Arrays.stream(values()).filter(t -> t.id().equals(id)).findFirst();
    }
}
