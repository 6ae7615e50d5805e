package com.mailrelay.ingress.smtp;

/**
 * The reply that refuses a message at the end of DATA, as the {@code smtp-replies} route
 * configuration puts it in the exchange's body: the code and the text (enhanced status first).
 */
record SmtpReply(int code, String text) {

    /** Anything unexpected: nothing was stored, and a 4xx tells the client to send it again. */
    static final SmtpReply NOT_STORED = new SmtpReply(451, "4.3.0 Temporary failure: the message was not stored, "
            + "try again later");
}
