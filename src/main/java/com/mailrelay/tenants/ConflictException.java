package com.mailrelay.tenants;

import com.mailrelay.message.Refusal;

/** The change contradicts what exists (an id taken, a key declared in application.yml): HTTP 409. */
public class ConflictException extends Refusal {
    public ConflictException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 409;
    }

    @Override
    public String code() {
        return "conflict";
    }
}
