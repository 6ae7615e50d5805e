package com.mailrelay.accept;

/** The message (or the request carrying it) is over relay.max-message-size: HTTP 413, SMTP 552. */
public class MessageTooLargeException extends RuntimeException {
    public MessageTooLargeException(long size, long limit) {
        super("message of " + size + " bytes exceeds the limit of " + limit + " bytes");
    }

    public MessageTooLargeException(String message) {
        super(message);
    }
}
