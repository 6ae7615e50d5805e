package com.mailrelay.queuectl;

import com.mailrelay.message.Refusal;

/** A resume that names no pause: HTTP 404 (nothing changed). */
public class PauseNotFoundException extends Refusal {

    public PauseNotFoundException(String message) {
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
