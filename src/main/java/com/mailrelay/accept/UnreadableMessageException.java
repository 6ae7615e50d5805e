package com.mailrelay.accept;

/**
 * A message whose MIME cannot be read where the relay has to read it (to personalise it per
 * recipient). Sending it again will not help: SMTP answers 554 5.6.0, REST 422.
 */
public class UnreadableMessageException extends RuntimeException {

    public UnreadableMessageException(String message, Throwable cause) {
        super(message, cause);
    }
}
