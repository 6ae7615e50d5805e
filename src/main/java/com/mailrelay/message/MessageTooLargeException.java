package com.mailrelay.message;

/** The message (or the request carrying it) is over relay.max-message-size: HTTP 413, SMTP 552. */
public class MessageTooLargeException extends Refusal {
    public MessageTooLargeException(long size, long limit) {
        super("message of " + size + " bytes exceeds the limit of " + limit + " bytes");
    }

    public MessageTooLargeException(String message) {
        super(message);
    }

    @Override
    public int status() {
        return 413;
    }

    @Override
    public String code() {
        return "message_too_large";
    }

    @Override
    public int smtpCode() {
        return 552;
    }

    @Override
    public String smtpStatus() {
        return "5.3.4";
    }
}
