package com.mailrelay.messages;

import com.mailrelay.message.Refusal;

/**
 * An action the message's status does not allow (cancel a message already SENDING, replay one that
 * is not a dead letter): HTTP 409, naming the status it found. Nothing was changed.
 */
public class MessageStateException extends Refusal {

    public MessageStateException(String message) {
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
