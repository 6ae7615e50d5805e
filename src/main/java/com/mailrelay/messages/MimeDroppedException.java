package com.mailrelay.messages;

import com.mailrelay.message.Refusal;

/** The message is known but its stored bytes are gone (retention dropped them): HTTP 410. */
public class MimeDroppedException extends Refusal {

    public MimeDroppedException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 410;
    }

    @Override
    public String code() {
        return "gone";
    }
}
