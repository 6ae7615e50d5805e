package com.mailrelay.messages;

import com.mailrelay.message.Refusal;

/** No message (or dead letter) with this id that the caller may see: HTTP 404. */
public class MessageNotFoundException extends Refusal {

    public MessageNotFoundException(String message) {
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
