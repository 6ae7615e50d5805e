package com.mailrelay.message;

/**
 * A message whose MIME cannot be read where the relay has to read it (to personalise it per
 * recipient). Sending it again will not help: SMTP answers 554 5.6.0, REST 422.
 */
public class UnreadableMessageException extends Refusal {

    public UnreadableMessageException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public int status() {
        return 422;
    }

    @Override
    public String code() {
        return "unreadable_message";
    }
}
